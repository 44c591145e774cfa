// booking.js — the patient's "Find a doctor" tab: search by department,
// specialty, name and date (GET /departments, GET /doctors), the chosen
// doctor's free slots (GET /doctors/{id}/slots) and booking one
// (POST /appointments). Refusals (slot-taken, patient-busy...) are shown by
// their error code.

import { t } from './i18n.js';
import * as api from './api.js';
import { $, showApiError, notify, busy, clearMessages } from './account-ui.js';
import { dateTime, isoDate, addDays, day, el, button, label } from './format.js';
import { freeSlots, renderSlots } from './slots.js';

const DAYS = 7;

const state = {
  departments: null,
  doctors: null,       // last search answer
  doctor: null,        // doctor whose slots are shown
  from: null,          // first day shown (YYYY-MM-DD)
  slots: [],
  slot: null,          // chosen slot
};

export function init() {
  $('find-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  $('slots-prev').addEventListener('click', () => showSlots(state.doctor, addDays(state.from, -DAYS)));
  $('slots-next').addEventListener('click', () => showSlots(state.doctor, addDays(state.from, DAYS)));
  $('book-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    book();
  });
}

export async function open() {
  const today = isoDate();
  $('find-date').min = today;
  if (!state.departments) {
    state.departments = (await api.get('/departments')).items;
    renderDepartments();
  }
  if (!state.doctors) await search();
}

export function render() {
  renderDepartments();
  if (state.doctors) renderDoctors();
  if (state.doctor) renderSlotsCard();
}

function renderDepartments() {
  if (!state.departments) return;
  const select = $('find-department');
  const keep = select.value;
  select.replaceChildren(new Option(t('find.department.any'), ''),
    ...state.departments.map((d) => new Option(t('find.department.option', { department: d.name, institution: d.institution.name }), String(d.id))));
  select.value = keep;
}

async function search() {
  clearMessages();
  await busy($('find-button'), async () => {
    try {
      const r = await api.get('/doctors', {
        department_id: $('find-department').value,
        specialty: $('find-specialty').value.trim(),
        q: $('find-name').value.trim(),
        date: $('find-date').value,
      });
      state.doctors = r.items;
    } catch (e) {
      showApiError(e, 'find');
      return;
    }
    renderDoctors();
  });
}

function renderDoctors() {
  const list = $('doctor-list');
  list.replaceChildren();
  $('find-summary').textContent = t('find.summary', { n: state.doctors.length });
  for (const d of state.doctors) {
    const li = el('li', { cls: 'item', attrs: { 'data-testid': 'doctor', 'data-doctor': String(d.id) } });
    li.append(el('h3', { text: d.name }));
    const facts = [d.specialty, d.department?.name, d.institution?.name].filter(Boolean).join(' · ');
    if (facts) li.append(el('p', { text: facts, cls: 'help' }));
    li.append(el('p', {
      text: d.free_slots ? t('find.free', { n: d.free_slots, next: dateTime(d.next_free) }) : t('find.none-free'),
    }));
    const b = button('find.times', { testid: 'doctor-times', onClick: () => showSlots(d, $('find-date').value || isoDate()) });
    b.disabled = !d.free_slots;
    const actions = el('div', { cls: 'actions' });
    actions.append(b);
    li.append(actions);
    list.append(li);
  }
}

async function showSlots(doctor, from) {
  if (!doctor) return;
  const today = isoDate();
  if (from < today) from = today;
  state.doctor = doctor;
  state.from = from;
  state.slot = null;
  try {
    state.slots = await freeSlots(doctor.id, from, DAYS);
  } catch (e) {
    showApiError(e, 'find');
    return;
  }
  renderSlotsCard();
  $('slots-card').hidden = false;
  $('slots-heading').focus();
}

function renderSlotsCard() {
  const d = state.doctor;
  $('slots-heading').textContent = t('slots.heading', { name: d.name });
  $('slots-range').textContent = t('slots.range', { from: day(`${state.from}T12:00:00`), to: day(`${addDays(state.from, DAYS - 1)}T12:00:00`) });
  $('slots-prev').disabled = state.from <= isoDate();
  renderSlots($('slot-days'), state.slots, (s) => {
    state.slot = s;
    renderChoice();
  });
  if (state.slot) {
    $('slot-days').querySelector(`[data-slot="${state.slot.id}"]`)?.setAttribute('aria-pressed', 'true');
  }
  renderChoice();
}

function renderChoice() {
  const s = state.slot;
  $('book-form').hidden = !s;
  if (!s) return;
  $('book-choice').textContent = t('book.choice', {
    when: dateTime(s.starts_at), name: state.doctor.name, type: label('visit-type', s.visit_type),
  });
}

async function book() {
  const s = state.slot;
  if (!s) return;
  await busy($('book-button'), async () => {
    const body = { slot_id: s.id };
    const reason = $('book-reason').value.trim();
    if (reason) body.reason = reason;
    try {
      const a = await api.post('/appointments', body);
      $('book-reason').value = '';
      notify('book.done', { when: dateTime(a.starts_at), name: a.doctor?.name ?? state.doctor.name });
      state.doctors = null; // free counts changed
    } catch (e) {
      showApiError(e, 'book');
    }
    // Taken or booked: either way the list is out of date.
    const err = $('error').hidden ? null : $('error').dataset.code;
    await showSlots(state.doctor, state.from);
    if (err) $('error').scrollIntoView({ block: 'nearest' });
  });
}
