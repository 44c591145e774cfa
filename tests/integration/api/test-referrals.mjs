// test-referrals.mjs — the appointment and referral state machines: the
// full referral flow from a primary clinic to a hospital specialist with a
// joint consultation across three institutions and the report coming back,
// a down-referral, and every illegal transition refused with a clear error
// (through the API and straight in SQL).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, Cluster, createHarness, makeWorld, startServer } from './lib.mjs';
import {
  book, expectError, expectOk, makeDepartment, makeDoctor, makeInstitution, makePatient, openSlots,
} from './clinic-lib.mjs';

test('state machines', { timeout: 600000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);
  const w = await makeWorld(server);
  const clinic = w.institution;  // a primary clinic
  const hospital = await makeInstitution(server, w.admin, 'Provincial Hospital', 'hospital');
  const other = await makeInstitution(server, w.admin, 'University Hospital', 'hospital');
  const cardio = await makeDepartment(server, w.admin, hospital.id, 'Cardiology');
  const gp = await makeDoctor(server, w.admin, { key: 'gp', institutionId: clinic.id, specialty: 'general practice' });
  const spec = await makeDoctor(server, w.admin, { key: 'cardio', role: 'specialist', institutionId: hospital.id,
    departmentId: cardio.id });
  const spec2 = await makeDoctor(server, w.admin, { key: 'imaging', role: 'specialist', institutionId: other.id,
    specialty: 'radiology' });
  const outsider = await makeDoctor(server, w.admin, { key: 'outsider', institutionId: other.id });
  // The clinic looks after the patient; its GP may refer them.
  await expectOk(api(server, 'POST', `/doctors/${gp.id}/patients/${w.patient.id}`, { token: w.clinic.token }), 204, 'care');

  await t.test('appointment: illegal transitions are refused with reasons', async () => {
    const d = await makeDoctor(server, w.admin, { key: 'visit', institutionId: hospital.id });
    const [soon, later] = await openSlots(server, d, { startInMs: 60000, count: 2, minutes: 10 });
    const a = await book(server, w.patient, soon.id);
    // booked → in_consultation: the patient is not in the waiting room.
    await expectError(api(server, 'POST', `/appointments/${a.id}/admit`, { token: d.token }), 409, 'patient-not-waiting', 'admit booked');
    // booked → completed
    await expectError(api(server, 'POST', `/appointments/${a.id}/complete`, {
      token: d.token, body: { diagnosis: 'x', advice: 'y' } }), 409, 'illegal-transition', 'complete booked');
    // Only the patient checks in; only the doctor admits.
    await expectError(api(server, 'POST', `/appointments/${a.id}/admit`, { token: w.doctor.token }), 404, 'not-found', 'other doctor');
    const waiting = await expectOk(api(server, 'POST', `/appointments/${a.id}/check-in`, { token: w.patient.token }), 200, 'check-in');
    assert.equal(waiting.status, 'waiting');
    assert.ok(waiting.checked_in_at);
    const queue = await expectOk(api(server, 'GET', `/doctors/${d.id}/queue`, { token: d.token }), 200, 'queue');
    assert.deepEqual(queue.waiting.map((x) => x.id), [a.id]);
    assert.ok(queue.waiting[0].wait_seconds >= 0);
    const admitted = await expectOk(api(server, 'POST', `/appointments/${a.id}/admit`, { token: d.token }), 200, 'admit');
    assert.equal(admitted.status, 'in_consultation');
    // in_consultation → cancelled, → no_show, → waiting
    await expectError(api(server, 'POST', `/appointments/${a.id}/cancel`, { token: d.token, body: {} }), 409, 'illegal-transition', 'cancel in call');
    await expectError(api(server, 'POST', `/appointments/${a.id}/no-show`, { token: d.token }), 409, 'illegal-transition', 'no-show in call');
    await expectError(api(server, 'POST', `/appointments/${a.id}/check-in`, { token: w.patient.token }), 409, 'illegal-transition', 're-check-in');
    // One patient at a time.
    const b = await book(server, w.patient2, later.id);
    await expectOk(api(server, 'POST', `/appointments/${b.id}/check-in`, { token: w.patient2.token }), 200, 'check-in 2');
    await expectError(api(server, 'POST', `/appointments/${b.id}/admit`, { token: d.token }), 409, 'doctor-busy', 'second admit');
    // The summary needs both parts.
    await expectError(api(server, 'POST', `/appointments/${a.id}/complete`, { token: d.token, body: { diagnosis: 'x', advice: '' } }),
      400, 'bad-request', 'empty advice');
    const done = await expectOk(api(server, 'POST', `/appointments/${a.id}/complete`, {
      token: d.token, body: { diagnosis: 'Benign palpitations', advice: 'Less coffee; come back if it persists.' } }), 200, 'complete');
    assert.equal(done.status, 'completed');
    // The patient sees the summary.
    const mine = await expectOk(api(server, 'GET', `/appointments/${a.id}`, { token: w.patient.token }), 200, 'patient view');
    assert.equal(mine.summary.diagnosis, 'Benign palpitations');
    // completed → anything
    for (const [path, body] of [['cancel', {}], ['no-show', undefined], ['admit', undefined], ['check-in', undefined]]) {
      const token = path === 'check-in' ? w.patient.token : d.token;
      await expectError(api(server, 'POST', `/appointments/${a.id}/${path}`, { token, body }), 409,
        'illegal-transition', `completed → ${path}`);
    }
    await expectError(api(server, 'POST', `/appointments/${a.id}/complete`, {
      token: d.token, body: { diagnosis: 'again', advice: 'again' } }), 409, 'illegal-transition', 'complete twice');
    await expectError(api(server, 'POST', `/appointments/${a.id}/room-token`, { token: w.patient.token }), 409, 'visit-closed', 'room after end');
    // Now the next patient can come in.
    await expectOk(api(server, 'POST', `/appointments/${b.id}/admit`, { token: d.token }), 200, 'admit next');
    // The rule holds below the API too.
    await assert.rejects(cluster.sql(`UPDATE appointments SET status = 'booked' WHERE id = ${a.id}`),
      /cannot go from completed to booked/);
    await assert.rejects(cluster.sql(`INSERT INTO appointments (slot_id, doctor_id, patient_id, starts_at, ends_at, visit_type, status)
      VALUES (NULL, ${d.id}, ${w.patient.id}, now(), now(), 'video', 'completed')`), /starts as booked/);
  });

  let referral;
  await t.test('referral: requested → accepted → scheduled → in consultation → report → closed', async () => {
    // A doctor without a care relationship cannot refer the patient.
    await expectError(api(server, 'POST', '/referrals', { token: outsider.token,
      body: { patient_id: w.patient.id, to_institution_id: hospital.id, reason: 'x' } }), 403, 'forbidden', 'no care');
    await expectError(api(server, 'POST', '/referrals', { token: gp.token,
      body: { patient_id: w.patient.id, to_institution_id: clinic.id, reason: 'x' } }), 400, 'bad-request', 'to self');
    referral = await expectOk(api(server, 'POST', '/referrals', { token: gp.token, body: {
      patient_id: w.patient.id, to_institution_id: hospital.id, to_department_id: cardio.id,
      reason: 'Exertional chest pain, abnormal ECG', urgency: 'urgent' } }), 201, 'create');
    assert.equal(referral.status, 'requested');
    assert.equal(referral.direction, 'up');
    assert.equal(referral.from_institution.id, clinic.id);
    // Attach a document.
    const doc = await api(server, 'POST', `/referrals/${referral.id}/documents?name=ecg.txt`, {
      token: gp.token, body: Buffer.from('ECG: ST depression in V4-V6\n'), headers: { 'content-type': 'text/plain' } });
    assert.equal(doc.status, 201, doc.text);
    const got = await api(server, 'GET', `/referrals/${referral.id}/documents/${doc.json.id}`, { token: spec.token });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.text, 'ECG: ST depression in V4-V6\n');

    // The specialist's inbox has it; an unrelated doctor cannot see it.
    const inbox = await expectOk(api(server, 'GET', '/referrals?box=in', { token: spec.token }), 200, 'inbox');
    assert.deepEqual(inbox.items.map((r) => r.id), [referral.id]);
    await expectError(api(server, 'GET', `/referrals/${referral.id}`, { token: outsider.token }), 404, 'not-found', 'outsider');
    // Illegal from requested: schedule, report, close.
    const [slot] = await openSlots(server, spec, { startInMs: 60000, count: 1, minutes: 30 });
    await expectError(api(server, 'POST', `/referrals/${referral.id}/schedule`, { token: spec.token, body: { slot_id: slot.id } }),
      409, 'illegal-transition', 'schedule requested');
    await expectError(api(server, 'POST', `/referrals/${referral.id}/report`, { token: spec.token, body: { report: 'r' } }),
      403, 'forbidden', 'report before assignment');
    await expectError(api(server, 'POST', `/referrals/${referral.id}/close`, { token: gp.token, body: {} }),
      409, 'illegal-transition', 'close requested');
    // Only the receiving side accepts.
    await expectError(api(server, 'POST', `/referrals/${referral.id}/accept`, { token: gp.token, body: {} }), 403, 'forbidden', 'sender accepts');

    referral = await expectOk(api(server, 'POST', `/referrals/${referral.id}/accept`, { token: spec.token, body: {} }), 200, 'accept');
    assert.equal(referral.status, 'accepted');
    assert.equal(referral.assigned_to.id, spec.id);
    await expectError(api(server, 'POST', `/referrals/${referral.id}/accept`, { token: spec.token, body: {} }),
      409, 'illegal-transition', 'accept twice');
    await expectError(api(server, 'POST', `/referrals/${referral.id}/decline`, { token: spec.token, body: { reason: 'late' } }),
      409, 'illegal-transition', 'decline accepted');

    // Joint consultation: the GP, the patient, the cardiologist and a radiologist of a third institution.
    referral = await expectOk(api(server, 'POST', `/referrals/${referral.id}/schedule`, {
      token: spec.token, body: { slot_id: slot.id, specialist_ids: [spec2.id] } }), 200, 'schedule');
    assert.equal(referral.status, 'scheduled');
    const appt = referral.appointment;
    assert.equal(appt.patient.id, w.patient.id);
    assert.equal(appt.doctor.id, spec.id);
    // Each joins from their own site with their own account.
    const tokens = {};
    for (const [who, acct] of [['patient', w.patient], ['host', spec], ['gp', gp], ['radiologist', spec2]])
      tokens[who] = await expectOk(api(server, 'POST', `/appointments/${appt.id}/room-token`, { token: acct.token }), 201, `room ${who}`);
    assert.equal(tokens.patient.room, `appt-${appt.id}`);
    assert.deepEqual([tokens.patient.lobby, tokens.patient.host, tokens.patient.role], [true, false, 'patient']);
    assert.deepEqual([tokens.host.lobby, tokens.host.host, tokens.host.role], [false, true, 'specialist']);
    assert.deepEqual([tokens.gp.lobby, tokens.gp.role], [false, 'clinic']);
    assert.deepEqual([tokens.radiologist.lobby, tokens.radiologist.role], [false, 'specialist']);
    const claims = JSON.parse(Buffer.from(tokens.patient.token.split('.')[1], 'base64url'));
    assert.equal(claims.lobby, true);
    assert.equal(claims.room, `appt-${appt.id}`);
    await expectError(api(server, 'POST', `/appointments/${appt.id}/room-token`, { token: outsider.token }), 404, 'not-found', 'outsider room');
    await expectError(api(server, 'POST', '/room-tokens', { token: w.patient.token, body: { room: `appt-${appt.id}` } }),
      403, 'visit-room', 'ad-hoc token for a visit room');
    // The patient's room token checked them in; admitting starts the consultation.
    await expectOk(api(server, 'POST', `/appointments/${appt.id}/admit`, { token: spec.token }), 200, 'admit');
    referral = await expectOk(api(server, 'GET', `/referrals/${referral.id}`, { token: gp.token }), 200, 'after admit');
    assert.equal(referral.status, 'in_consultation');
    await expectError(api(server, 'POST', `/referrals/${referral.id}/cancel`, { token: gp.token, body: {} }),
      409, 'illegal-transition', 'cancel in consultation');
    await expectError(api(server, 'POST', `/referrals/${referral.id}/report`, { token: gp.token, body: { report: 'mine' } }),
      403, 'forbidden', 'gp writes report');
    referral = await expectOk(api(server, 'POST', `/referrals/${referral.id}/report`, { token: spec2.token,
      body: { report: 'CT angiography: 70% LAD stenosis. Recommend PCI; follow-up at the clinic.' } }), 200, 'report');
    assert.equal(referral.status, 'report_returned');
    // The report is back at the referring clinic.
    const out = await expectOk(api(server, 'GET', '/referrals?box=out', { token: gp.token }), 200, 'outbox');
    assert.match(out.items.find((r) => r.id === referral.id).report, /LAD stenosis/);
    await expectError(api(server, 'POST', `/referrals/${referral.id}/close`, { token: spec.token, body: {} }), 403, 'forbidden', 'receiver closes');
    referral = await expectOk(api(server, 'POST', `/referrals/${referral.id}/close`, { token: gp.token, body: {} }), 200, 'close');
    assert.equal(referral.status, 'closed');
    assert.deepEqual(referral.events.map((e) => e.to),
      ['requested', 'accepted', 'scheduled', 'in_consultation', 'report_returned', 'closed']);
    for (const path of ['accept', 'schedule', 'report', 'cancel', 'close']) {
      const token = ['accept', 'schedule'].includes(path) ? spec.token : path === 'report' ? spec2.token : gp.token;
      const body = path === 'schedule' ? { slot_id: slot.id } : path === 'report' ? { report: 'again' } : {};
      await expectError(api(server, 'POST', `/referrals/${referral.id}/${path}`, { token, body }), 409,
        'illegal-transition', `closed → ${path}`);
    }
    const audit = await cluster.sql(`SELECT action FROM audit WHERE object_type = 'referral' AND object_id = '${referral.id}'
      AND result = 'ok' AND action <> 'referral.read' ORDER BY id`);
    assert.deepEqual(audit, ['referral.create', 'referral.accept', 'referral.schedule', 'referral.report', 'referral.close']);
    await assert.rejects(cluster.sql(`UPDATE referrals SET status = 'requested' WHERE id = ${referral.id}`),
      /cannot go from closed to requested/);
  });

  await t.test('down-referral back to the clinic; decline and cancel', async () => {
    const down = await expectOk(api(server, 'POST', '/referrals', { token: spec.token, body: {
      patient_id: w.patient.id, to_institution_id: clinic.id, to_specialist_id: gp.id, parent_id: referral.id,
      reason: 'Post-PCI follow-up: dual antiplatelet therapy, BP control' } }), 201, 'down');
    assert.equal(down.direction, 'down');
    assert.equal(down.parent_id, referral.id);
    const gpInbox = await expectOk(api(server, 'GET', '/referrals?box=in', { token: gp.token }), 200, 'gp inbox');
    assert.ok(gpInbox.items.some((r) => r.id === down.id));
    const declined = await expectOk(api(server, 'POST', `/referrals/${down.id}/decline`, {
      token: gp.token, body: { reason: 'Patient moved to another district' } }), 200, 'decline');
    assert.equal(declined.status, 'declined');
    await expectError(api(server, 'POST', `/referrals/${down.id}/accept`, { token: gp.token, body: {} }),
      409, 'illegal-transition', 'accept declined');
    await expectError(api(server, 'POST', `/referrals/${down.id}/decline`, { token: gp.token, body: {} }),
      400, 'bad-request', 'decline without reason');

    const r2 = await expectOk(api(server, 'POST', '/referrals', { token: gp.token, body: {
      patient_id: w.patient.id, to_institution_id: hospital.id, reason: 'Second opinion' } }), 201, 'second');
    const c = await expectOk(api(server, 'POST', `/referrals/${r2.id}/cancel`, { token: gp.token, body: { reason: 'resolved' } }), 200, 'cancel');
    assert.equal(c.status, 'cancelled');
    await expectError(api(server, 'POST', `/referrals/${r2.id}/accept`, { token: spec.token, body: {} }),
      409, 'illegal-transition', 'accept cancelled');
  });

  await t.test('a cancelled consultation sends the referral back to accepted', async () => {
    const r = await expectOk(api(server, 'POST', '/referrals', { token: gp.token, body: {
      patient_id: w.patient.id, to_institution_id: hospital.id, reason: 'Holter review' } }), 201, 'create');
    await expectOk(api(server, 'POST', `/referrals/${r.id}/accept`, { token: spec.token, body: {} }), 200, 'accept');
    const [slot] = await openSlots(server, spec, { startInMs: 3 * 86400000, count: 1 });
    const s = await expectOk(api(server, 'POST', `/referrals/${r.id}/schedule`, { token: spec.token, body: { slot_id: slot.id } }), 200, 'schedule');
    await expectOk(api(server, 'POST', `/appointments/${s.appointment.id}/cancel`, { token: spec.token, body: { reason: 'clash' } }), 200, 'cancel visit');
    const back = await expectOk(api(server, 'GET', `/referrals/${r.id}`, { token: gp.token }), 200, 'get');
    assert.equal(back.status, 'accepted');
    assert.equal(back.appointment, null);
  });

  await t.test('invite links are one-time', async () => {
    const d = await makeDoctor(server, w.admin, { key: 'inviter', institutionId: hospital.id });
    const [slot] = await openSlots(server, d, { startInMs: 60000, count: 1 });
    const guestPatient = await makePatient(server, 'invited');
    const a = await book(server, guestPatient, slot.id);
    await expectError(api(server, 'POST', `/appointments/${a.id}/invites`, { token: w.doctor.token, body: {} }), 404, 'not-found', 'other doctor invites');
    const inv = await expectOk(api(server, 'POST', `/appointments/${a.id}/invites`, {
      token: d.token, body: { role: 'interpreter', label: 'Cantonese interpreter' } }), 201, 'invite');
    assert.match(inv.token, /^[0-9a-f]{64}$/);
    await expectError(api(server, 'POST', '/invites/redeem', { body: { token: inv.token } }), 400, 'bad-request', 'no name');
    const guest = await expectOk(api(server, 'POST', '/invites/redeem', { body: { token: inv.token, name: 'Mr Chan' } }), 201, 'redeem');
    assert.deepEqual([guest.room, guest.role, guest.lobby, guest.name], [`appt-${a.id}`, 'guest', false, 'Mr Chan']);
    await expectError(api(server, 'POST', '/invites/redeem', { body: { token: inv.token, name: 'Mallory' } }), 404, 'invite-invalid', 'reuse');
    // A specialist with an account joins the visit's participants.
    const inv2 = await expectOk(api(server, 'POST', `/appointments/${a.id}/invites`, { token: d.token, body: { role: 'specialist' } }), 201, 'invite 2');
    const s = await expectOk(api(server, 'POST', '/invites/redeem', { token: spec2.token, body: { token: inv2.token } }), 201, 'redeem 2');
    assert.equal(s.sub, String(spec2.id));
    await expectOk(api(server, 'GET', `/appointments/${a.id}`, { token: spec2.token }), 200, 'participant reads the visit');
  });
});
