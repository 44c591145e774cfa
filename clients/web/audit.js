// audit.js — the auditor's panel of account.html: search the audit trail by
// actor, patient, action and time range page by page, export what matches,
// and verify the hash chain (docs/api.md, Audit trail).

import { t, hasKey } from './i18n.js';
import * as api from './api.js';
import { $, showError, showApiError, clearError, checkForm, busy, roleLabel, cell, utcText } from './account-ui.js';

// The actions docs/api.md lists; the search takes an exact name.
const ACTIONS = [
  'login', 'logout', 'user.register', 'user.create', 'user.bootstrap', 'user.list',
  'password.change', 'password.reset_request', 'password.reset', 'sessions.revoke_all',
  'totp.begin', 'totp.enable', 'institution.create', 'doctor.profile_set', 'doctor.verify',
  'care.grant', 'care.revoke', 'patient.read', 'room_token.issue', 'room.join', 'room.leave',
  'audit.search', 'audit.export', 'audit.verify',
];

const state = {
  filters: null,   // the query of the current search, fixed when it ran
  cursors: [null], // cursors[i] fetches page i
  page: 0,
  items: [],
  next: null,
  verify: null,    // the last GET /audit/verify answer
};

export function init() {
  $('audit-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  $('audit-next').addEventListener('click', () => turn(+1));
  $('audit-prev').addEventListener('click', () => turn(-1));
  $('audit-export-jsonl').addEventListener('click', () => exportTrail('jsonl', $('audit-export-jsonl')));
  $('audit-export-csv').addEventListener('click', () => exportTrail('csv', $('audit-export-csv')));
  $('audit-verify').addEventListener('click', verify);
  render();
}

/** Shows the most recent page of everything on arrival. */
export async function open() {
  await search();
}

export function close() {
  Object.assign(state, { filters: null, cursors: [null], page: 0, items: [], next: null, verify: null });
  render();
}

export function render() {
  const select = $('audit-action');
  const keep = select.value;
  select.replaceChildren(new Option(t('audit.action.any'), ''), ...ACTIONS.map((a) => new Option(a, a)));
  select.value = keep;
  renderRows();
  renderVerify();
}

// ---------------------------------------------------------------- search

/** "2025-01-07T09:12" or "...:03" from a datetime-local field, read as UTC. */
function utcParam(value) {
  if (!value) return undefined;
  return `${value.length === 16 ? `${value}:00` : value}Z`;
}

function readFilters() {
  return {
    actor: $('audit-actor').value.trim(),
    patient: $('audit-patient').value.trim(),
    action: $('audit-action').value,
    since: utcParam($('audit-since').value),
    until: utcParam($('audit-until').value),
  };
}

async function search() {
  if (!checkForm($('audit-form'))) return;
  const filters = readFilters();
  if (filters.since && filters.until && filters.since >= filters.until) {
    showError('audit.error.range');
    return;
  }
  state.filters = { ...filters, limit: $('audit-limit').value };
  state.cursors = [null];
  await fetchPage(0, $('audit-search'));
}

async function turn(delta) {
  const page = state.page + delta;
  if (page < 0 || page >= state.cursors.length || !state.filters) return;
  await fetchPage(page, delta > 0 ? $('audit-next') : $('audit-prev'));
}

async function fetchPage(page, button) {
  await busy(button, async () => {
    try {
      const r = await api.get('/audit', { ...state.filters, cursor: state.cursors[page] });
      state.page = page;
      state.items = r.items;
      state.next = r.next_cursor;
      state.cursors.length = page + 1;
      if (r.next_cursor) state.cursors.push(r.next_cursor);
      clearError();
      renderRows();
    } catch (e) {
      showApiError(e, 'audit');
    }
  });
}

function resultLabel(result) {
  return hasKey(`audit.result.${result}`) ? t(`audit.result.${result}`) : String(result);
}

function renderRows() {
  const rows = state.items.map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.id = e.id;
    tr.dataset.action = e.action;
    tr.dataset.result = e.result;
    const actor = e.actor_id == null ? t('audit.actor.none')
      : t('audit.actor.text', { n: e.actor_id, role: e.actor_role ? roleLabel(e.actor_role) : '' });
    const time = cell(utcText(e.at));
    time.title = e.at;
    const object = [e.object_type, e.object_id].filter((x) => x != null && x !== '').join(' ');
    tr.append(cell(String(e.id), true), time, cell(actor), cell(e.action), cell(object),
      cell(e.patient_id == null ? '' : String(e.patient_id)), cell(resultLabel(e.result)), cell(e.source ?? ''));
    if (e.result !== 'ok') tr.classList.add('not-ok');
    if (state.verify?.first_broken_id === e.id) tr.classList.add('broken');
    return tr;
  });
  $('audit-table').tBodies[0].replaceChildren(...rows);
  $('audit-prev').disabled = state.page === 0;
  $('audit-next').disabled = !state.next;
  const shown = !!state.filters;
  $('audit-page').textContent = shown ? t('audit.page', { n: state.page + 1 }) : '';
  $('audit-summary').textContent = !shown ? ''
    : state.items.length ? t('audit.summary', { count: state.items.length, first: state.items[0].id, last: state.items.at(-1).id })
      : t('audit.empty');
}

// ---------------------------------------------------------------- export

async function exportTrail(format, button) {
  if (!checkForm($('audit-form'))) return;
  await busy(button, async () => {
    try {
      // Fetched, not linked: the session token goes in a header, not a URL.
      const res = await api.call('GET', '/audit/export', { query: { ...readFilters(), format }, raw: true });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `consilium-audit-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      showApiError(e, 'audit');
    }
  });
}

// ---------------------------------------------------------------- chain

async function verify() {
  await busy($('audit-verify'), async () => {
    try {
      state.verify = await api.get('/audit/verify');
      clearError();
      renderVerify();
      renderRows();
    } catch (e) {
      showApiError(e, 'audit');
    }
  });
}

function renderVerify() {
  const v = state.verify;
  const box = $('verify-result');
  box.hidden = !v;
  if (!v) return;
  box.dataset.ok = String(v.ok);
  $('verify-text').textContent = v.ok ? t('audit.verify.ok', { count: v.checked })
    : t('audit.verify.broken', { id: v.first_broken_id, reason: v.reason ?? '', count: v.checked });
  $('verify-head').textContent = v.head_hash ?? '';
}
