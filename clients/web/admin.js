// admin.js — the administrator's panel of account.html: create staff
// accounts, list accounts, verify doctors' credentials, add institutions and
// grant or end care relationships (docs/api.md, Administration).

import { t } from './i18n.js';
import * as api from './api.js';
import {
  $, showApiError, notify, checkForm, busy, roleLabel, verificationLabel, fillSelect, cell,
} from './account-ui.js';

const ROLES = ['patient', 'doctor', 'specialist', 'clinic_staff', 'admin', 'auditor'];
const STAFF_ROLES = ['doctor', 'specialist', 'clinic_staff', 'admin', 'auditor'];
const DOCTORS = new Set(['doctor', 'specialist']);

const state = {
  open: false,
  institutions: [],     // every institution, in id order
  users: [],            // the accounts listed so far
  doctors: new Map(),   // user id -> doctor object (GET /doctors/{id})
  cursor: null,         // next page of accounts, or null
};

export function init() {
  $('create-user-form').addEventListener('submit', createUser);
  $('new-user-role').addEventListener('change', syncInstitutionRequired);
  $('users-role-filter').addEventListener('change', () => reloadUsers().catch((e) => showApiError(e, 'admin')));
  $('users-more').addEventListener('click', () => busy($('users-more'), () => loadUsers().catch((e) => showApiError(e, 'admin'))));
  $('inst-form').addEventListener('submit', createInstitution);
  $('care-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    care('POST', $('care-grant'));
  });
  $('care-revoke').addEventListener('click', () => care('DELETE', $('care-revoke')));
  render();
}

/** Loads the panel's lists; called once the admin's session is full. */
export async function open() {
  state.open = true;
  try {
    await loadInstitutions();
    await reloadUsers();
  } catch (e) {
    showApiError(e, 'admin');
  }
}

export function close() {
  state.open = false;
  state.institutions = [];
  state.users = [];
  state.doctors.clear();
  state.cursor = null;
  $('users-role-filter').value = '';
  $('users-table').tBodies[0].replaceChildren();
  $('inst-list').replaceChildren();
}

/** (Re)draws every text of the panel, e.g. after a language switch. */
export function render() {
  fillSelect($('new-user-role'), STAFF_ROLES, roleLabel);
  const filter = $('users-role-filter');
  fillSelect(filter, ['', ...ROLES], (r) => (r ? roleLabel(r) : t('admin.users.all')));
  renderInstitutions();
  renderUsers();
  syncInstitutionRequired();
}

// ---------------------------------------------------------------- institutions

async function loadInstitutions() {
  const all = [];
  for (let cursor = null; ;) {
    const page = await api.get('/institutions', { limit: 100, cursor });
    all.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  state.institutions = all;
  renderInstitutions();
}

function institutionLabel(inst) {
  return t('admin.inst.label', { name: inst.name, kind: t(`inst.kind.${inst.kind}`) });
}

function renderInstitutions() {
  $('inst-list').replaceChildren(...state.institutions.map((inst) => {
    const li = document.createElement('li');
    li.textContent = `${t('acct.number', { n: inst.id })} · ${institutionLabel(inst)}`;
    li.dataset.institution = inst.id;
    return li;
  }));
  if (!state.institutions.length) {
    const li = document.createElement('li');
    li.className = 'help';
    li.textContent = t('admin.inst.empty');
    $('inst-list').append(li);
  }
  const select = $('new-user-institution');
  const keep = select.value;
  select.replaceChildren(new Option(t('acct.none'), ''),
    ...state.institutions.map((inst) => new Option(institutionLabel(inst), String(inst.id))));
  select.value = state.institutions.some((i) => String(i.id) === keep) ? keep : '';
}

function syncInstitutionRequired() {
  // Clinic staff belong to an institution (the server says so too).
  $('new-user-institution').required = $('new-user-role').value === 'clinic_staff';
}

async function createInstitution(ev) {
  ev.preventDefault();
  const form = $('inst-form');
  if (!checkForm(form)) return;
  await busy($('inst-button'), async () => {
    try {
      const r = await api.post('/institutions', { name: $('inst-name').value.trim(), kind: $('inst-kind').value });
      form.reset();
      await loadInstitutions();
      notify('admin.inst.created', { name: r.institution.name, n: r.institution.id });
    } catch (e) {
      showApiError(e, 'admin');
    }
  });
}

// ---------------------------------------------------------------- accounts

async function createUser(ev) {
  ev.preventDefault();
  const form = $('create-user-form');
  syncInstitutionRequired();
  if (!checkForm(form)) return;
  const body = {
    email: $('new-user-email').value.trim(),
    password: $('new-user-password').value,
    display_name: $('new-user-name').value.trim(),
    role: $('new-user-role').value,
  };
  const inst = $('new-user-institution').value;
  if (inst) body.institution_id = Number(inst);
  await busy($('create-user-button'), async () => {
    try {
      const r = await api.post('/admin/users', body);
      form.reset();
      syncInstitutionRequired();
      notify('admin.create.done', { name: r.user.display_name, n: r.user.id, role: roleLabel(r.user.role) });
      await reloadUsers();
    } catch (e) {
      showApiError(e, 'admin.create');
    }
  });
}

async function reloadUsers() {
  state.users = [];
  state.cursor = null;
  state.doctors.clear();
  await loadUsers();
}

async function loadUsers() {
  const page = await api.get('/admin/users', { role: $('users-role-filter').value, limit: 50, cursor: state.cursor });
  state.users.push(...page.items);
  state.cursor = page.next_cursor;
  // Verification state lives on the doctor, not the account.
  await Promise.all(page.items.filter((u) => DOCTORS.has(u.role)).map(async (u) => {
    try {
      state.doctors.set(u.id, (await api.get(`/doctors/${u.id}`)).doctor);
    } catch (e) {
      console.warn(`doctor ${u.id}`, e);
    }
  }));
  renderUsers();
}

function renderUsers() {
  const byId = new Map(state.institutions.map((i) => [i.id, i]));
  const rows = state.users.map((u) => {
    const tr = document.createElement('tr');
    tr.dataset.user = u.id;
    tr.dataset.role = u.role;
    const inst = u.institution_id == null ? '' : byId.get(u.institution_id)?.name ?? t('acct.number', { n: u.institution_id });
    tr.append(cell(String(u.id), true), cell(u.display_name), cell(u.email), cell(roleLabel(u.role)), cell(inst),
      cell(t(u.totp_enabled ? 'profile.totp.on' : 'profile.totp.off')), doctorCell(u));
    if (u.disabled) tr.classList.add('disabled');
    return tr;
  });
  $('users-table').tBodies[0].replaceChildren(...rows);
  $('users-more').hidden = !state.cursor;
}

/** Credentials and the verify/reject buttons of a doctor's row. */
function doctorCell(user) {
  const td = cell('');
  if (!DOCTORS.has(user.role)) return td;
  const d = state.doctors.get(user.id);
  const v = d?.verification ?? 'none';
  const status = document.createElement('span');
  status.className = 'status';
  status.dataset.status = v;
  status.textContent = verificationLabel(v);
  td.append(status);
  if (d && v !== 'none') {
    const p = document.createElement('div');
    p.className = 'help';
    p.textContent = t('admin.users.credentials.text', { licence: d.licence_number ?? '', specialty: d.specialty ?? '' });
    td.append(p);
    const actions = document.createElement('div');
    actions.className = 'actions';
    for (const verdict of ['verified', 'rejected']) {
      if (v === verdict) continue;
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `btn small${verdict === 'verified' ? ' primary' : ''}`;
      b.dataset.verdict = verdict;
      b.textContent = t(`admin.verify.${verdict}`);
      b.setAttribute('aria-label', t(`admin.verify.${verdict}.label`, { name: user.display_name }));
      b.addEventListener('click', () => verify(user, verdict, b));
      actions.append(b);
    }
    td.append(actions);
  }
  return td;
}

async function verify(user, verdict, button) {
  await busy(button, async () => {
    try {
      const r = await api.post(`/doctors/${user.id}/verify`, { verdict });
      state.doctors.set(user.id, r.doctor);
      renderUsers();
      notify(`admin.verify.done.${verdict}`, { name: user.display_name });
    } catch (e) {
      showApiError(e, 'admin.verify');
    }
  });
}

// ---------------------------------------------------------------- care

async function care(method, button) {
  const form = $('care-form');
  if (!checkForm(form)) return;
  const doctor = $('care-doctor').value.trim();
  const patient = $('care-patient').value.trim();
  await busy(button, async () => {
    try {
      await api.call(method, `/doctors/${doctor}/patients/${patient}`);
      notify(method === 'POST' ? 'admin.care.granted' : 'admin.care.revoked', { doctor, patient });
    } catch (e) {
      showApiError(e, 'admin.care');
    }
  });
}
