// test-scheduling.mjs — rosters, slots, search, booking (including a rush of
// 200 concurrent clients on 20 slots), cancel/reschedule windows, blocking,
// no-shows and notifications, against a real PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, Cluster, createHarness, makeWorld, sleep, startServer } from './lib.mjs';
import {
  book, expectError, expectOk, makeDepartment, makeDoctor, makeInstitution, makePatient, openSlots,
} from './clinic-lib.mjs';

test('scheduling', { timeout: 600000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);
  const w = await makeWorld(server);
  const hospital = await makeInstitution(server, w.admin, 'City Hospital', 'hospital');
  const cardio = await makeDepartment(server, w.admin, hospital.id, 'Cardiology');
  const doc = await makeDoctor(server, w.admin, { key: 'sched', institutionId: hospital.id,
    departmentId: cardio.id, specialty: 'Interventional cardiology' });

  await t.test('weekly roster makes slots in the roster time zone; bad rosters are refused', async () => {
    const roster = await expectOk(api(server, 'PUT', `/doctors/${doc.id}/roster`, {
      token: doc.token,
      body: { timezone: 'Asia/Shanghai', templates: [
        { weekday: 1, start: '09:00', end: '12:00', slot_minutes: 20, visit_type: 'video' },
        { weekday: 4, start: '14:00', end: '15:00', slot_minutes: 30, visit_type: 'audio' },
      ] },
    }), 200, 'roster');
    assert.equal(roster.templates.length, 2);
    // Next Monday in Shanghai: 9 slots from 01:00Z (09:00+08).
    const now = new Date();
    let monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
    while (monday.getUTCDay() !== 1) monday = new Date(monday.getTime() + 86400000);
    const day = monday.toISOString().slice(0, 10);
    const slots = await expectOk(api(server, 'GET', `/doctors/${doc.id}/slots?from=${day}&to=${day}`,
      { token: w.patient.token }), 200, 'slots');
    assert.deepEqual(slots.items.map((s) => s.starts_at.slice(11, 16)),
      ['01:00', '01:20', '01:40', '02:00', '02:20', '02:40', '03:00', '03:20', '03:40']);
    assert.ok(slots.items.every((s) => s.status === 'free' && s.visit_type === 'video'));
    // Days are the caller's: Monday 01:00Z is still Sunday evening in New York.
    const sunday = new Date(monday.getTime() - 86400000).toISOString().slice(0, 10);
    const ny = await expectOk(api(server, 'GET', `/doctors/${doc.id}/slots?from=${sunday}&to=${sunday}&tz=America/New_York`,
      { token: w.patient.token }), 200, 'slots in New York days');
    assert.deepEqual(ny.items.map((s) => s.starts_at), slots.items.map((s) => s.starts_at));
    const nyMonday = await expectOk(api(server, 'GET', `/doctors/${doc.id}/slots?from=${day}&to=${day}&tz=America/New_York`,
      { token: w.patient.token }), 200, 'Monday in New York');
    assert.ok(nyMonday.items.every((s) => !s.starts_at.startsWith(day)), JSON.stringify(nyMonday.items));
    await expectError(api(server, 'GET', `/doctors/${doc.id}/slots?from=${day}&tz=Atlantis/Capital`, { token: w.patient.token }),
      400, 'bad-request', 'unknown zone');

    await expectError(api(server, 'PUT', `/doctors/${doc.id}/roster`, {
      token: doc.token, body: { timezone: 'Mars/Olympus', templates: [] } }), 400, 'bad-request', 'bad zone');
    await expectError(api(server, 'PUT', `/doctors/${doc.id}/roster`, {
      token: doc.token, body: { templates: [{ weekday: 8, start: '09:00', end: '10:00', slot_minutes: 15, visit_type: 'video' }] },
    }), 400, 'bad-request', 'bad weekday');
    await expectError(api(server, 'PUT', `/doctors/${doc.id}/roster`, {
      token: doc.token, body: { templates: [
        { weekday: 2, start: '09:00', end: '11:00', slot_minutes: 15, visit_type: 'video' },
        { weekday: 2, start: '10:00', end: '12:00', slot_minutes: 15, visit_type: 'video' }] },
    }), 400, 'bad-request', 'overlap');
    // The refused rosters changed nothing.
    const again = await expectOk(api(server, 'GET', `/doctors/${doc.id}/roster`, { token: w.patient.token }), 200, 'get');
    assert.equal(again.templates.length, 2);
    // Another doctor's roster is not yours to change.
    await expectError(api(server, 'PUT', `/doctors/${doc.id}/roster`, {
      token: w.doctor.token, body: { templates: [] } }), 403, 'forbidden', 'foreign roster');

    // Leave removes the free slots it covers.
    const leave = await expectOk(api(server, 'POST', `/doctors/${doc.id}/roster/exceptions`, {
      token: doc.token, body: { kind: 'leave', starts_at: `${day}T00:00:00Z`, ends_at: `${day}T02:10:00Z`, note: 'conference' },
    }), 201, 'leave');
    assert.deepEqual(leave.affected_appointments, []);
    const after = await expectOk(api(server, 'GET', `/doctors/${doc.id}/slots?from=${day}&to=${day}`,
      { token: w.patient.token }), 200, 'slots after leave');
    assert.deepEqual(after.items.map((s) => s.starts_at.slice(11, 16)), ['02:20', '02:40', '03:00', '03:20', '03:40']);
  });

  await t.test('patients find doctors by department, specialty and name', async () => {
    const byDep = await expectOk(api(server, 'GET', `/doctors?department_id=${cardio.id}`, { token: w.patient.token }), 200, 'dep');
    assert.deepEqual(byDep.items.map((d) => d.id), [doc.id]);
    assert.equal(byDep.items[0].department.name, 'Cardiology');
    assert.ok(byDep.items[0].free_slots > 0);
    const bySpec = await expectOk(api(server, 'GET', '/doctors?specialty=interventional', { token: w.patient.token }), 200, 'spec');
    assert.deepEqual(bySpec.items.map((d) => d.id), [doc.id]);
    const none = await expectOk(api(server, 'GET', '/doctors?q=nobody-by-that-name', { token: w.patient.token }), 200, 'none');
    assert.deepEqual(none.items, []);
    await expectError(api(server, 'GET', '/doctors?date=not-a-date', { token: w.patient.token }), 400, 'bad-request', 'bad date');
    const deps = await expectOk(api(server, 'GET', '/departments', { token: w.patient.token }), 200, 'departments');
    assert.ok(deps.items.some((d) => d.id === cardio.id && d.institution.id === hospital.id));
  });

  await t.test('booking rush: 200 concurrent clients, 20 slots, 20 bookings, 180 refusals', async () => {
    const rushDoc = await makeDoctor(server, w.admin, { key: 'rush', institutionId: hospital.id });
    const slots = await openSlots(server, rushDoc, { count: 20, minutes: 10 });
    const patients = [];
    for (let i = 0; i < 200; i += 20)
      patients.push(...await Promise.all(Array.from({ length: 20 }, (_, j) => makePatient(server, `rush${i + j}`))));

    // Ten clients per slot, all at once.
    const results = await Promise.all(patients.map((p, i) => api(server, 'POST', '/appointments', {
      token: p.token, body: { slot_id: slots[i % 20].id },
    })));
    const won = results.filter((r) => r.status === 201);
    const lost = results.filter((r) => r.status !== 201);
    assert.equal(won.length, 20, `bookings: ${won.length}`);
    assert.equal(lost.length, 180);
    for (const r of lost) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.json.error.code, 'slot-taken', r.text);
      assert.match(r.json.error.message, /already booked/);
    }
    assert.deepEqual(won.map((r) => r.json.slot_id).sort((a, b) => a - b), slots.map((s) => s.id).sort((a, b) => a - b));

    // The database agrees: one live appointment per slot, 20 in all.
    const rows = await cluster.sql(`SELECT count(*), count(DISTINCT slot_id) FROM appointments
      WHERE doctor_id = ${rushDoc.id} AND status <> 'cancelled'`);
    assert.deepEqual(rows, ['20|20']);
    const view = await expectOk(api(server, 'GET', `/doctors/${rushDoc.id}/slots?from=${slots[0].starts_at.slice(0, 10)}&to=${slots[19].starts_at.slice(0, 10)}`,
      { token: rushDoc.token }), 200, 'doctor view');
    assert.equal(view.items.filter((s) => s.status === 'booked').length, 20);
    // Even SQL that skips the booking function cannot double-book.
    await assert.rejects(cluster.sql(`INSERT INTO appointments (slot_id, doctor_id, patient_id, starts_at, ends_at, visit_type)
      SELECT s.id, s.doctor_id, ${w.patient2.id}, s.starts_at, s.ends_at, s.visit_type FROM slots s WHERE s.id = ${slots[0].id}`),
    /appointments_one_per_slot/);
  });

  await t.test('cancel and reschedule: window for patients, slot freed, staff any time', async () => {
    const d = await makeDoctor(server, w.admin, { key: 'resched', institutionId: hospital.id });
    const far = await openSlots(server, d, { startInMs: 2 * 86400000, count: 3 });
    const a = await book(server, w.patient, far[0].id, 'palpitations');
    assert.equal(a.status, 'booked');
    assert.equal(a.reason, 'palpitations');
    assert.equal(a.doctor.id, d.id);
    // A patient cannot book two visits at the same time.
    const d2 = await makeDoctor(server, w.admin, { key: 'clash', institutionId: hospital.id });
    const clash = await openSlots(server, d2, { startInMs: Date.parse(far[0].starts_at) - Date.now(), count: 1 });
    await expectError(api(server, 'POST', '/appointments', { token: w.patient.token, body: { slot_id: clash[0].id } }),
      409, 'patient-busy', 'overlapping visit');

    const moved = await expectOk(api(server, 'POST', `/appointments/${a.id}/reschedule`, {
      token: w.patient.token, body: { slot_id: far[1].id } }), 201, 'reschedule');
    assert.equal(moved.rescheduled_from, a.id);
    assert.equal(moved.slot_id, far[1].id);
    const old = await expectOk(api(server, 'GET', `/appointments/${a.id}`, { token: w.patient.token }), 200, 'old');
    assert.equal(old.status, 'cancelled');
    assert.equal(old.cancel_reason, 'rescheduled');
    // The first slot is free again: someone else books it.
    await book(server, w.patient2, far[0].id);
    // Rescheduling onto a taken slot changes nothing.
    await expectError(api(server, 'POST', `/appointments/${moved.id}/reschedule`, {
      token: w.patient.token, body: { slot_id: far[0].id } }), 409, 'slot-taken', 'onto taken');
    assert.equal((await expectOk(api(server, 'GET', `/appointments/${moved.id}`, { token: w.patient.token }), 200, 'still')).status, 'booked');

    const cancelled = await expectOk(api(server, 'POST', `/appointments/${moved.id}/cancel`, {
      token: w.patient.token, body: { reason: 'feeling better' } }), 200, 'cancel');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.cancel_reason, 'feeling better');

    // Inside the window (default 120 min) the patient may not change it, the doctor may.
    const soon = await openSlots(server, d, { startInMs: 30 * 60000, count: 1 });
    const s1 = await book(server, w.patient, soon[0].id);
    await expectError(api(server, 'POST', `/appointments/${s1.id}/cancel`, { token: w.patient.token, body: {} }),
      409, 'change-window-closed', 'late cancel');
    await expectOk(api(server, 'POST', `/appointments/${s1.id}/cancel`, { token: d.token, body: { reason: 'doctor ill' } }),
      200, 'doctor cancels');
    // Others' visits are invisible, not forbidden.
    await expectError(api(server, 'GET', `/appointments/${s1.id}`, { token: w.patient2.token }), 404, 'not-found', 'foreign');
    await expectError(api(server, 'POST', `/appointments/${s1.id}/cancel`, { token: w.patient2.token, body: {} }),
      404, 'not-found', 'foreign cancel');
  });

  await t.test('doctors block and release slots; blocked slots cannot be booked', async () => {
    const d = await makeDoctor(server, w.admin, { key: 'block', institutionId: hospital.id });
    const [s] = await openSlots(server, d, { count: 1 });
    const blocked = await expectOk(api(server, 'POST', `/slots/${s.id}/block`, { token: d.token }), 200, 'block');
    assert.equal(blocked.status, 'blocked');
    await expectError(api(server, 'POST', '/appointments', { token: w.patient.token, body: { slot_id: s.id } }),
      409, 'slot-blocked', 'book blocked');
    await expectError(api(server, 'POST', `/slots/${s.id}/release`, { token: w.doctor.token }), 403, 'forbidden', 'foreign release');
    await expectOk(api(server, 'POST', `/slots/${s.id}/release`, { token: w.admin.token }), 200, 'admin release');
    await book(server, w.patient, s.id);
    await expectError(api(server, 'POST', `/slots/${s.id}/block`, { token: d.token }), 409, 'slot-booked', 'block booked');
  });

  await t.test('no-shows are marked after the start and counted for admins', async () => {
    const d = await makeDoctor(server, w.admin, { key: 'noshow', institutionId: hospital.id });
    const [s] = await openSlots(server, d, { startInMs: 4000, count: 1, minutes: 5 });
    const a = await book(server, w.patient2, s.id);
    await expectError(api(server, 'POST', `/appointments/${a.id}/no-show`, { token: d.token }), 409, 'too-early', 'early');
    await sleep(Math.max(0, Date.parse(s.starts_at) - Date.now()) + 1500);
    const marked = await expectOk(api(server, 'POST', `/appointments/${a.id}/no-show`, { token: d.token }), 200, 'no-show');
    assert.equal(marked.status, 'no_show');
    await expectError(api(server, 'GET', '/admin/no-shows', { token: d.token }), 403, 'forbidden', 'doctor stats');
    const stats = await expectOk(api(server, 'GET', '/admin/no-shows', { token: w.admin.token }), 200, 'stats');
    assert.ok(stats.no_shows >= 1);
    assert.ok(stats.by_doctor.some((x) => x.doctor_id === d.id && x.no_shows === 1));
    assert.ok(stats.by_patient.some((x) => x.patient_id === w.patient2.id));
  });

  await t.test('booking and cancelling notify the other side in-app', async () => {
    const list = await expectOk(api(server, 'GET', '/notifications', { token: doc.token }), 200, 'notifications');
    const d = await makeDoctor(server, w.admin, { key: 'notify', institutionId: hospital.id });
    const [s] = await openSlots(server, d, { count: 1 });
    const p = await makePatient(server, 'notified');
    const a = await book(server, p, s.id);
    const n = await expectOk(api(server, 'GET', '/notifications', { token: d.token }), 200, 'doctor notifications');
    const booked = n.items.find((x) => x.kind === 'appointment.booked' && x.appointment_id === a.id);
    assert.ok(booked, JSON.stringify(n));
    assert.equal(booked.read, false);
    await expectOk(api(server, 'POST', `/notifications/${booked.id}/read`, { token: d.token }), 204, 'read');
    await expectError(api(server, 'POST', `/notifications/${booked.id}/read`, { token: p.token }), 404, 'not-found', 'foreign read');
    assert.ok(Array.isArray(list.items));
  });

  await t.test('every booking is in the audit trail', async () => {
    const [audited] = await cluster.sql(`SELECT count(*) FROM audit
      WHERE action IN ('appointment.book', 'appointment.reschedule') AND result = 'ok'`);
    const [made] = await cluster.sql('SELECT count(*) FROM appointments');
    assert.equal(audited, made);
    assert.ok(Number(made) >= 25, made);
  });
});
