// referrals.js — the "Referrals" tab (双向转诊): a doctor refers a patient
// to another institution (POST /referrals, documents attached with
// POST /referrals/{id}/documents) and follows it in "Sent"; the receiving
// side accepts or declines it, schedules the joint consultation in one of
// the specialist's free slots (with further specialists if wanted) and
// writes the report, in "Received". GET /referrals?box=out|in.

import { t } from './i18n.js';
import * as api from './api.js';
import { $, showApiError, notify, busy, checkForm } from './account-ui.js';
import { dateTime, isoDate, el, button, label } from './format.js';
import { openDialog } from './dialog.js';
import { freeSlots, pickSlot } from './slots.js';
import { fileItem } from './views.js';

const STATUSES = ['requested', 'accepted', 'declined', 'scheduled', 'in_consultation', 'report_returned', 'closed', 'cancelled'];
const OPEN = (r) => !['closed', 'cancelled', 'declined'].includes(r.status);
const LIVE_VISIT = new Set(['booked', 'waiting', 'in_consultation']);

const state = {
  ctx: null,
  institutions: null,
  departments: null,
  lists: { out: null, in: null },
};

export function init() {
  for (const box of ['out', 'in']) $(`referrals-${box}-filter`).addEventListener('change', () => load(box));
  $('ref-institution').addEventListener('change', () => {
    fillDepartments();
    fillSpecialists();
  });
  $('ref-department').addEventListener('change', fillSpecialists);
  $('ref-patient').addEventListener('change', () => {
    const other = $('ref-patient').value === 'other';
    $('ref-patient-other-label').hidden = !other;
    $('ref-patient-other').required = other;
  });
  $('referral-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    create();
  });
}

function isDoctor() {
  return ['doctor', 'specialist'].includes(state.ctx.user.role);
}

export async function open(ctx) {
  state.ctx = ctx;
  fillFilters();
  // A primary clinic mostly sends, a hospital mostly receives: its box first.
  const clinic = ctx.institution?.kind === 'primary_clinic';
  const tab = $('referrals-tab');
  tab.append(...(clinic ? [$('referrals-out-card'), $('referrals-in-card')] : [$('referrals-in-card'), $('referrals-out-card')]));
  $('referral-new').hidden = !isDoctor();
  if (isDoctor()) {
    if (clinic) tab.insertBefore($('referral-new'), $('referrals-out-card'));
    else tab.append($('referral-new'));
    await loadFormChoices();
  }
  await Promise.all([load('out'), load('in')]);
}

export function render() {
  fillFilters();
  if (state.institutions) {
    fillInstitutions();
    fillDepartments();
  }
  for (const box of ['out', 'in']) if (state.lists[box]) renderList(box);
}

function fillFilters() {
  for (const box of ['out', 'in']) {
    const s = $(`referrals-${box}-filter`);
    const keep = s.value;
    s.replaceChildren(new Option(t('referrals.filter.all'), ''), ...STATUSES.map((v) => new Option(label('referral-status', v), v)));
    s.value = keep;
  }
}

// ---------------------------------------------------------------- new referral

async function loadFormChoices() {
  const [institutions, departments, visits] = await Promise.all([
    api.getAll('/institutions'),
    api.get('/departments'),
    api.get('/appointments', { from: '2000-01-01' }),
  ]);
  state.institutions = institutions.filter((i) => i.id !== state.ctx.user.institution_id);
  state.departments = departments.items;
  const patients = new Map();
  for (const a of visits.items) if (a.patient) patients.set(a.patient.id, a.patient.name);
  const sel = $('ref-patient');
  const keep = sel.value;
  sel.replaceChildren(new Option(t('referral.choose'), ''),
    ...[...patients].map(([id, name]) => new Option(t('referral.patient.option', { name, id }), String(id))),
    new Option(t('referral.patient.other'), 'other'));
  sel.value = keep;
  fillInstitutions();
  fillDepartments();
  await fillSpecialists();
}

function fillInstitutions() {
  const sel = $('ref-institution');
  const keep = sel.value;
  sel.replaceChildren(new Option(t('referral.choose'), ''),
    ...state.institutions.map((i) => new Option(`${i.name} (${label('inst.kind', i.kind)})`, String(i.id))));
  sel.value = keep;
}

function fillDepartments() {
  const inst = Number($('ref-institution').value);
  const sel = $('ref-department');
  const keep = sel.value;
  sel.replaceChildren(new Option(t('referral.any'), ''),
    ...state.departments.filter((d) => d.institution.id === inst).map((d) => new Option(d.name, String(d.id))));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '';
}

async function fillSpecialists() {
  const inst = $('ref-institution').value;
  const sel = $('ref-specialist');
  const keep = sel.value;
  let doctors = [];
  if (inst) {
    try {
      doctors = (await api.get('/doctors', { institution_id: inst, department_id: $('ref-department').value })).items;
    } catch (e) {
      showApiError(e, 'referral');
    }
  }
  sel.replaceChildren(new Option(t('referral.any'), ''),
    ...doctors.map((d) => new Option([d.name, d.specialty].filter(Boolean).join(' · '), String(d.id))));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '';
}

async function create() {
  const form = $('referral-form');
  if (!checkForm(form)) return;
  const patient = $('ref-patient').value === 'other' ? $('ref-patient-other').value : $('ref-patient').value;
  const body = {
    patient_id: Number(patient),
    to_institution_id: Number($('ref-institution').value),
    reason: $('ref-reason').value.trim(),
    urgency: $('ref-urgency').value,
  };
  if ($('ref-department').value) body.to_department_id = Number($('ref-department').value);
  if ($('ref-specialist').value) body.to_specialist_id = Number($('ref-specialist').value);
  await busy($('ref-submit'), async () => {
    let r;
    try {
      r = await api.post('/referrals', body);
    } catch (e) {
      showApiError(e, 'referral');
      return;
    }
    const files = [...$('ref-documents').files];
    const failed = await uploadDocuments(r.id, files);
    form.reset();
    $('ref-patient-other-label').hidden = true;
    if (!failed) notify('referral.sent', { id: r.id, n: files.length });
    await load('out');
  });
}

/** Uploads @files to referral @id; true if one failed (its error is shown). */
async function uploadDocuments(id, files) {
  for (const f of files) {
    try {
      await api.upload(`/referrals/${id}/documents`, f);
    } catch (e) {
      showApiError(e, 'files');
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- lists

async function load(box) {
  try {
    state.lists[box] = (await api.get('/referrals', { box, status: $(`referrals-${box}-filter`).value })).items;
  } catch (e) {
    showApiError(e, 'referral');
    return;
  }
  renderList(box);
}

async function reload() {
  await Promise.all([load('out'), load('in')]);
}

function renderList(box) {
  const items = state.lists[box];
  $(`referrals-${box}`).replaceChildren(...items.map((r) => referralItem(r, box)));
  $(`referrals-${box}-empty`).hidden = items.length > 0;
}

function who(d) {
  return d ? [d.name, d.specialty, d.department?.name, d.institution?.name].filter(Boolean).join(' · ') : '';
}

function referralItem(r, box) {
  const li = el('li', { cls: 'item', attrs: { 'data-testid': 'referral', 'data-referral': String(r.id), 'data-status': r.status } });
  const head = el('div', { cls: 'item-head' });
  head.append(el('h3', { text: t('referral.title', { id: r.id, name: r.patient?.name ?? '' }) }),
    el('span', { text: label('urgency', r.urgency), cls: 'badge urgency', attrs: { 'data-urgency': r.urgency } }),
    el('span', { text: label('referral-status', r.status), cls: 'badge status-badge', attrs: { 'data-status': r.status, 'data-testid': 'referral-status' } }));
  li.append(head);
  const to = [r.to_institution?.name, r.to_department?.name, r.to_specialist?.name].filter(Boolean).join(' · ');
  li.append(el('p', { text: t(r.direction === 'down' ? 'referral.route.down' : 'referral.route.up', { from: who(r.from_doctor), to }), cls: 'help' }));
  li.append(el('p', { text: t('referral.reason.text', { reason: r.reason }), cls: 'pre' }));
  if (r.assigned_to) li.append(el('p', { text: t('referral.assigned', { name: who(r.assigned_to) }) }));
  if (r.decline_reason) li.append(el('p', { text: t('referral.declined', { reason: r.decline_reason }) }));
  const a = r.appointment;
  if (a) {
    const p = el('p', { text: t('referral.consultation', { when: dateTime(a.starts_at), status: label('status', a.status) }) });
    li.append(p);
  }
  if (r.report) {
    const rep = el('section', { cls: 'summary', attrs: { 'data-testid': 'referral-report' } });
    rep.append(el('h4', { text: t('referral.report') }), el('p', { text: r.report, cls: 'pre' }));
    if (r.report_at) rep.append(el('p', { text: t('summary.written', { when: dateTime(r.report_at) }), cls: 'help' }));
    li.append(rep);
  }
  if (r.documents?.length) {
    const docs = el('ul', { cls: 'plain-list' });
    docs.append(...r.documents.map((f) => fileItem(`/referrals/${r.id}/documents/${f.id}`, f)));
    li.append(el('h4', { text: t('referral.documents.heading') }), docs);
  }
  if (r.events?.length) li.append(history(r.events));
  li.append(actions(r, box));
  return li;
}

function history(events) {
  const d = el('details', { cls: 'history' });
  d.append(el('summary', { text: t('referral.history') }));
  const ol = el('ol', { cls: 'plain-list' });
  ol.append(...events.map((e) => el('li', {
    text: t('referral.event', { when: dateTime(e.at), from: e.from ? label('referral-status', e.from) : '—', to: label('referral-status', e.to) })
      + (e.note ? ` — ${e.note}` : ''),
  })));
  d.append(ol);
  return d;
}

function actions(r, box) {
  const row = el('div', { cls: 'actions' });
  const a = r.appointment;
  if (a && LIVE_VISIT.has(a.status)) {
    row.append(el('a', { text: t('visits.open'), cls: 'btn small primary', attrs: { href: `visit.html?appointment=${a.id}`, 'data-testid': 'referral-visit' } }));
  }
  if (box === 'in') {
    if (r.status === 'requested') {
      row.append(button('referral.accept', { cls: 'btn small primary', testid: 'referral-accept', onClick: (ev) => accept(r, ev.currentTarget) }));
      row.append(button('referral.decline', { testid: 'referral-decline', onClick: (ev) => decline(r, ev.currentTarget) }));
    }
    if (r.status === 'accepted') row.append(button('referral.schedule', { cls: 'btn small primary', testid: 'referral-schedule', onClick: (ev) => schedule(r, ev.currentTarget) }));
    if (r.status === 'in_consultation' && isDoctor()) row.append(button('referral.write-report', { cls: 'btn small primary', testid: 'referral-write-report', onClick: (ev) => report(r, ev.currentTarget) }));
  } else {
    if (r.status === 'report_returned') row.append(button('referral.close', { cls: 'btn small primary', testid: 'referral-close', onClick: (ev) => act(r, 'close', {}, ev.currentTarget, 'referral.closed') }));
    if (['requested', 'accepted', 'scheduled'].includes(r.status)) row.append(button('referral.cancel', { testid: 'referral-cancel', onClick: (ev) => cancel(r, ev.currentTarget) }));
  }
  if (OPEN(r)) {
    const input = el('input', { cls: 'visually-hidden', attrs: { type: 'file', multiple: '', 'data-testid': 'referral-attach-input' } });
    const b = button('referral.attach', { testid: 'referral-attach', onClick: () => input.click() });
    input.addEventListener('change', async () => {
      await busy(b, async () => {
        const files = [...input.files];
        if (!(await uploadDocuments(r.id, files))) notify('referral.attached', { n: files.length });
        await reload();
      });
    });
    row.append(b, input);
  }
  return row;
}

/** POST /referrals/{id}/@verb with @body, then a notice and a fresh list. */
async function act(r, verb, body, btn, doneKey) {
  await busy(btn, async () => {
    try {
      await api.post(`/referrals/${r.id}/${verb}`, body);
      notify(doneKey, { id: r.id });
    } catch (e) {
      showApiError(e, 'referral');
    }
    await reload();
  });
}

async function accept(r, btn) {
  if (isDoctor()) {
    await act(r, 'accept', {}, btn, 'referral.accepted');
    return;
  }
  // Staff name the specialist who takes it.
  let doctors;
  try {
    doctors = (await api.get('/doctors', { institution_id: r.to_institution.id, department_id: r.to_department?.id })).items;
  } catch (e) {
    showApiError(e, 'referral');
    return;
  }
  const v = await openDialog({
    titleKey: 'referral.accept.title', titleParams: { id: r.id }, submitKey: 'referral.accept',
    fields: [{ name: 'specialist', key: 'referral.specialist', type: 'select', required: true,
      options: doctors.map((d) => ({ value: String(d.id), label: who(d) })) }],
  });
  if (v) await act(r, 'accept', { specialist_id: Number(v.specialist) }, btn, 'referral.accepted');
}

async function decline(r, btn) {
  const v = await openDialog({
    titleKey: 'referral.decline.title', titleParams: { id: r.id }, submitKey: 'referral.decline', danger: true,
    fields: [{ name: 'reason', key: 'referral.decline.reason', type: 'textarea', required: true, maxlength: 2000 }],
  });
  if (v) await act(r, 'decline', { reason: v.reason }, btn, 'referral.declined.done');
}

async function cancel(r, btn) {
  const v = await openDialog({
    titleKey: 'referral.cancel.title', titleParams: { id: r.id }, submitKey: 'referral.cancel', danger: true,
    fields: [{ name: 'reason', key: 'cancel.reason', type: 'textarea', maxlength: 2000 }],
  });
  if (v) await act(r, 'cancel', v.reason ? { reason: v.reason } : {}, btn, 'referral.cancelled');
}

async function report(r, btn) {
  const v = await openDialog({
    titleKey: 'referral.report.title', titleParams: { id: r.id }, submitKey: 'referral.report.send',
    fields: [{ name: 'report', key: 'referral.report', type: 'textarea', required: true, maxlength: 20000 }],
  });
  if (v) await act(r, 'report', { report: v.report }, btn, 'referral.report.sent');
}

/** Picks one of the assigned specialist's free slots and, optionally, more specialists. */
async function schedule(r, btn) {
  let slots, doctors;
  try {
    [slots, doctors] = await Promise.all([
      freeSlots(r.assigned_to.id, isoDate(), 28),
      api.get('/doctors').then((x) => x.items),
    ]);
  } catch (e) {
    showApiError(e, 'referral');
    return;
  }
  const others = doctors.filter((d) => d.id !== r.assigned_to.id);
  const pick = await pickSlot(slots, {
    titleKey: 'referral.schedule.title', titleParams: { id: r.id, name: r.assigned_to.name },
    textKey: 'referral.schedule.text', submitKey: 'referral.schedule',
    fields: others.length ? [{ name: 'specialists', key: 'referral.schedule.more', type: 'select', multiple: true,
      options: others.map((d) => ({ value: String(d.id), label: who(d) })) }] : [],
  });
  if (!pick) return;
  const body = { slot_id: pick.slot.id };
  if (pick.values.specialists?.length) body.specialist_ids = pick.values.specialists.map(Number);
  await act(r, 'schedule', body, btn, 'referral.scheduled');
}
