// queue.js — the doctor's "Waiting room" tab: checked-in patients with
// their wait times (GET /doctors/{me}/queue, refreshed every few seconds),
// the visit in progress and the next ones. Admit moves the visit to "in
// consultation" (POST /appointments/{id}/admit) and opens it as host on the
// visit page, which lets the patient in from the lobby.

import { t } from './i18n.js';
import * as api from './api.js';
import { $, showApiError, busy } from './account-ui.js';
import { dateTime, time, duration, el, button, label } from './format.js';

const REFRESH_MS = 4000;

const state = {
  ctx: null,
  queue: null,
  fetchedAt: 0,        // performance.now() of the last answer, to tick wait times
  timer: 0,
  ticker: 0,
};

export async function open(ctx) {
  state.ctx = ctx;
  await load();
  close();
  state.timer = setInterval(() => load().catch(() => {}), REFRESH_MS);
  state.ticker = setInterval(tick, 1000);
}

export function close() {
  clearInterval(state.timer);
  clearInterval(state.ticker);
  state.timer = state.ticker = 0;
}

export function render() {
  if (state.queue) renderQueue();
}

async function load() {
  try {
    state.queue = await api.get(`/doctors/${state.ctx.user.id}/queue`);
    state.fetchedAt = performance.now();
  } catch (e) {
    showApiError(e, 'queue');
    return;
  }
  renderQueue();
}

function renderQueue() {
  const q = state.queue;
  $('queue-current').replaceChildren(...q.in_consultation.map((a) => item(a, 'current')));
  $('queue-waiting').replaceChildren(...q.waiting.map((a) => item(a, 'waiting')));
  $('queue-upcoming').replaceChildren(...q.upcoming.map((a) => item(a, 'upcoming')));
  $('queue-empty').hidden = q.waiting.length > 0;
  $('queue-current').closest('section').hidden = q.in_consultation.length === 0;
  $('queue-upcoming').closest('section').hidden = q.upcoming.length === 0;
  $('queue-updated').textContent = t('queue.updated', { n: q.waiting.length });
  tick();
}

/** Advances the shown wait times between refreshes. */
function tick() {
  const extra = (performance.now() - state.fetchedAt) / 1000;
  for (const span of document.querySelectorAll('#queue-waiting [data-wait]')) {
    span.textContent = t('queue.wait', { time: duration(Number(span.dataset.wait) + extra) });
  }
}

function item(a, kind) {
  const li = el('li', { cls: 'item', attrs: { 'data-testid': `queue-${kind}`, 'data-appointment': String(a.id) } });
  const head = el('div', { cls: 'item-head' });
  head.append(el('h3', { text: a.patient?.name ?? '' }));
  if (kind === 'waiting') {
    head.append(el('span', { cls: 'badge wait', attrs: { 'data-wait': String(a.wait_seconds ?? 0), 'data-testid': 'queue-wait' } }));
  }
  li.append(head);
  li.append(el('p', { text: t('queue.slot', { when: `${dateTime(a.starts_at)}–${time(a.ends_at)}`, type: label('visit-type', a.visit_type) }), cls: 'help' }));
  if (a.reason) li.append(el('p', { text: t('visits.reason', { reason: a.reason }) }));
  const actions = el('div', { cls: 'actions' });
  if (kind === 'waiting') {
    const busyDoctor = state.queue.in_consultation.length > 0;
    const b = button('queue.admit', { cls: 'btn primary', testid: 'queue-admit', onClick: (ev) => admit(a, ev.currentTarget) });
    b.dataset.appointment = String(a.id);
    if (busyDoctor) b.title = t('api.error.doctor-busy');
    actions.append(b);
  } else if (kind === 'current') {
    actions.append(el('a', { text: t('queue.return'), cls: 'btn primary',
      attrs: { href: `visit.html?appointment=${a.id}&start=1`, 'data-testid': 'queue-return' } }));
  } else {
    actions.append(el('a', { text: t('visits.open'), cls: 'btn small', attrs: { href: `visit.html?appointment=${a.id}` } }));
  }
  li.append(actions);
  return li;
}

async function admit(a, btn) {
  await busy(btn, async () => {
    try {
      await api.post(`/appointments/${a.id}/admit`);
    } catch (e) {
      showApiError(e, 'queue');
      await load();
      return;
    }
    // Into the call as host; the visit page lets the patient in.
    location.assign(`visit.html?appointment=${a.id}&start=1`);
  });
}
