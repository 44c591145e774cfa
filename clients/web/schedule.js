// schedule.js — the doctor's "My schedule" tab: the weekly template
// (GET/PUT /doctors/{me}/roster), leave and extra sessions
// (POST .../roster/exceptions) and the slots they make, which can be
// blocked and released (POST /slots/{id}/block|release).

import { t, getLocale } from './i18n.js';
import * as api from './api.js';
import { $, showApiError, notify, busy, checkForm, cell } from './account-ui.js';
import { dateTime, time, isoDate, addDays, el, button, label } from './format.js';

const VISIT_TYPES = ['video', 'audio', 'follow_up'];

const state = {
  ctx: null,
  roster: null,
  slots: null,
};

export function init() {
  $('roster-add').addEventListener('click', () => {
    const last = [...$('roster-table').tBodies[0].rows].pop();
    addRow(last ? { ...readRow(last), weekday: Math.min(7, readRow(last).weekday + 1) }
      : { weekday: 1, start: '09:00', end: '12:00', slot_minutes: 15, visit_type: 'video' });
  });
  $('roster-save').addEventListener('click', (ev) => saveRoster(ev.currentTarget));
  $('exception-kind').addEventListener('change', renderExceptionKind);
  $('exception-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    addException();
  });
  $('myslots-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadSlots();
  });
}

export async function open(ctx) {
  state.ctx = ctx;
  if (!$('myslots-from').value) $('myslots-from').value = isoDate();
  fillVisitTypes($('exception-type'));
  renderExceptionKind();
  await loadRoster();
  await loadSlots();
}

export function render() {
  fillVisitTypes($('exception-type'));
  // Rows keep what was typed: re-label their selects only.
  for (const row of $('roster-table').tBodies[0].rows) {
    const v = readRow(row);
    fillWeekdays(row.querySelector('.weekday'));
    fillVisitTypes(row.querySelector('.visit-type'));
    row.querySelector('.weekday').value = String(v.weekday);
    row.querySelector('.visit-type').value = v.visit_type;
    row.querySelector('.remove').textContent = t('roster.remove');
  }
  if (state.roster) renderExceptions();
  if (state.slots) renderSlotTable();
}

function me() {
  return state.ctx.user.id;
}

// ---------------------------------------------------------------- roster

async function loadRoster() {
  try {
    state.roster = await api.get(`/doctors/${me()}/roster`);
  } catch (e) {
    showApiError(e, 'roster');
    return;
  }
  $('roster-timezone').value = state.roster.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  $('roster-table').tBodies[0].replaceChildren();
  for (const tpl of state.roster.templates) addRow(tpl);
  renderExceptions();
}

function weekdayName(n) {
  // 2024-01-01 was a Monday (ISO weekday 1).
  return new Intl.DateTimeFormat(getLocale(), { weekday: 'long' }).format(new Date(2024, 0, n));
}

function fillWeekdays(select) {
  const keep = select.value;
  select.replaceChildren(...[1, 2, 3, 4, 5, 6, 7].map((n) => new Option(weekdayName(n), String(n))));
  if (keep) select.value = keep;
}

function fillVisitTypes(select) {
  const keep = select.value;
  select.replaceChildren(...VISIT_TYPES.map((v) => new Option(label('visit-type', v), v)));
  if (keep) select.value = keep;
}

function addRow(tpl) {
  const row = document.createElement('tr');
  row.dataset.testid = 'roster-row';
  const weekday = el('select', { cls: 'weekday', attrs: { 'aria-label': t('roster.weekday') } });
  fillWeekdays(weekday);
  weekday.value = String(tpl.weekday);
  const start = el('input', { cls: 'start', attrs: { type: 'time', step: '300', required: '', 'aria-label': t('roster.start') } });
  start.value = tpl.start;
  const end = el('input', { cls: 'end', attrs: { type: 'time', step: '300', required: '', 'aria-label': t('roster.end') } });
  end.value = tpl.end;
  const minutes = el('input', { cls: 'minutes', attrs: { type: 'number', min: '5', max: '240', step: '5', required: '', 'aria-label': t('roster.slot-minutes') } });
  minutes.value = String(tpl.slot_minutes);
  const type = el('select', { cls: 'visit-type', attrs: { 'aria-label': t('roster.visit-type') } });
  fillVisitTypes(type);
  type.value = tpl.visit_type;
  const remove = button('roster.remove', { cls: 'btn small remove', onClick: () => row.remove() });
  for (const c of [weekday, start, end, minutes, type, remove]) {
    const td = document.createElement('td');
    td.append(c);
    row.append(td);
  }
  $('roster-table').tBodies[0].append(row);
}

function readRow(row) {
  return {
    weekday: Number(row.querySelector('.weekday').value),
    start: row.querySelector('.start').value.slice(0, 5),
    end: row.querySelector('.end').value.slice(0, 5),
    slot_minutes: Number(row.querySelector('.minutes').value),
    visit_type: row.querySelector('.visit-type').value,
  };
}

async function saveRoster(btn) {
  const rows = [...$('roster-table').tBodies[0].rows];
  for (const row of rows) {
    const bad = [...row.querySelectorAll('input')].find((i) => !i.checkValidity());
    if (bad) {
      bad.reportValidity();
      bad.focus();
      return;
    }
  }
  await busy(btn, async () => {
    try {
      state.roster = await api.put(`/doctors/${me()}/roster`, {
        timezone: $('roster-timezone').value.trim() || 'UTC',
        templates: rows.map(readRow),
      });
      notify('roster.saved', { n: state.roster.templates.length });
    } catch (e) {
      showApiError(e, 'roster');
      return;
    }
    await loadSlots();
  });
}

// ---------------------------------------------------------------- exceptions

function renderExceptionKind() {
  const extra = $('exception-kind').value === 'extra';
  for (const l of document.querySelectorAll('#exception-form .extra-only')) l.hidden = !extra;
}

function renderExceptions() {
  const list = $('exception-list');
  list.replaceChildren(...state.roster.exceptions.map((e) => {
    const what = e.kind === 'extra'
      ? t('exception.item.extra', { from: dateTime(e.starts_at), to: dateTime(e.ends_at), minutes: e.slot_minutes, type: label('visit-type', e.visit_type) })
      : t('exception.item.leave', { from: dateTime(e.starts_at), to: dateTime(e.ends_at) });
    return el('li', { text: e.note ? `${what} — ${e.note}` : what, attrs: { 'data-testid': 'exception' } });
  }));
}

async function addException() {
  const form = $('exception-form');
  if (!checkForm(form)) return;
  const kind = $('exception-kind').value;
  const body = {
    kind,
    // datetime-local is the browser's local time; the API wants a zone.
    starts_at: new Date($('exception-starts').value).toISOString(),
    ends_at: new Date($('exception-ends').value).toISOString(),
  };
  if (kind === 'extra') {
    body.slot_minutes = Number($('exception-minutes').value);
    body.visit_type = $('exception-type').value;
  }
  const note = $('exception-note').value.trim();
  if (note) body.note = note;
  await busy($('exception-add'), async () => {
    let r;
    try {
      r = await api.post(`/doctors/${me()}/roster/exceptions`, body);
    } catch (e) {
      showApiError(e, 'roster');
      return;
    }
    notify(kind === 'extra' ? 'exception.added.extra' : 'exception.added.leave');
    const affected = r.affected_appointments ?? [];
    $('exception-affected').hidden = affected.length === 0;
    $('exception-affected-list').replaceChildren(...affected.map((a) =>
      el('li', { text: `${dateTime(a.starts_at)} · ${a.patient?.name ?? ''} · ${label('status', a.status)}` })));
    $('exception-note').value = '';
    await loadRoster();
    await loadSlots();
  });
}

// ---------------------------------------------------------------- slots

async function loadSlots() {
  const from = $('myslots-from').value || isoDate();
  const days = Number($('myslots-days').value);
  try {
    state.slots = (await api.get(`/doctors/${me()}/slots`, { from, to: addDays(from, days - 1) })).items;
  } catch (e) {
    showApiError(e, 'roster');
    return;
  }
  renderSlotTable();
}

function renderSlotTable() {
  const body = $('myslots-table').tBodies[0];
  body.replaceChildren(...state.slots.map((s) => {
    const row = document.createElement('tr');
    row.dataset.slot = String(s.id);
    row.dataset.status = s.status;
    row.append(cell(`${dateTime(s.starts_at)}–${time(s.ends_at)}`, true), cell(label('visit-type', s.visit_type)));
    const st = cell(label('slot-status', s.status));
    st.className = 'slot-status';
    row.append(st);
    const td = document.createElement('td');
    if (s.status === 'free') td.append(button('myslots.block', { testid: 'slot-block', onClick: (ev) => setBlocked(s, true, ev.currentTarget) }));
    if (s.status === 'blocked') td.append(button('myslots.release', { testid: 'slot-release', onClick: (ev) => setBlocked(s, false, ev.currentTarget) }));
    row.append(td);
    return row;
  }));
  $('myslots-empty').hidden = state.slots.length > 0;
}

async function setBlocked(slot, block, btn) {
  await busy(btn, async () => {
    try {
      const s = await api.post(`/slots/${slot.id}/${block ? 'block' : 'release'}`);
      Object.assign(slot, s);
      notify(block ? 'myslots.blocked' : 'myslots.released', { when: dateTime(slot.starts_at) });
    } catch (e) {
      showApiError(e, 'roster');
    }
    renderSlotTable();
  });
}
