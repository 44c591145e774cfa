// test-fhir.mjs — the read-only FHIR R4 API (docs/fhir.md). A roster, a
// booked visit that is checked in, admitted and completed, a referral that
// is accepted and scheduled and one that is cancelled; then every resource
// type is read and searched, each answer is checked against the R4
// structure rules (required elements, value sets, formats, no nulls or
// empty arrays), and access is checked: a patient cannot read another
// patient's visit (404), an auditor reads nothing (403), and the reads of
// patient data are in the audit trail.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  api, Cluster, createHarness, enrolStaff, errorCode, makeWorld, PASSWORD, startServer, uniqueEmail,
} from './lib.mjs';

// ---------------------------------------------------------------- R4 rules

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATETIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const REFERENCE = /^(Patient|Practitioner|Organization|Schedule|Slot|Appointment|Encounter|ServiceRequest)\/[A-Za-z0-9\-.]{1,64}$/;
const VALUE_SETS = {
  Slot: ['busy', 'free', 'busy-unavailable', 'busy-tentative', 'entered-in-error'],
  Appointment: ['proposed', 'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow',
    'entered-in-error', 'checked-in', 'waitlist'],
  Encounter: ['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled',
    'entered-in-error', 'unknown'],
  ServiceRequest: ['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown'],
};
const INTENTS = ['proposal', 'plan', 'directive', 'order', 'original-order', 'reflex-order',
  'filler-order', 'instance-order', 'option'];
const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'];
const PARTICIPANT_STATUS = ['accepted', 'declined', 'tentative', 'needs-action'];

/** FHIR JSON has no nulls, empty strings, arrays or objects anywhere. */
function noEmpties(v, where) {
  assert.notEqual(v, null, `${where} is null`);
  if (Array.isArray(v)) {
    assert.ok(v.length > 0, `${where} is an empty array`);
    v.forEach((x, i) => noEmpties(x, `${where}[${i}]`));
  } else if (typeof v === 'object') {
    assert.ok(Object.keys(v).length > 0, `${where} is an empty object`);
    for (const [k, x] of Object.entries(v)) noEmpties(x, `${where}.${k}`);
  } else if (typeof v === 'string') {
    assert.ok(v.length > 0, `${where} is an empty string`);
  }
}

function checkRef(ref, where) {
  assert.ok(ref.reference || ref.display, `${where}: a Reference needs reference or display`);
  if (ref.reference) assert.match(ref.reference, REFERENCE, where);
}

function checkCoding(c, where) {
  assert.equal(typeof c.system, 'string', `${where}.system`);
  assert.equal(typeof c.code, 'string', `${where}.code`);
}

function checkConcept(cc, where) {
  assert.ok(cc.text || cc.coding, `${where}: an empty CodeableConcept`);
  (cc.coding ?? []).forEach((c, i) => checkCoding(c, `${where}.coding[${i}]`));
}

function checkPeriod(p, where) {
  if (p.start) assert.match(p.start, DATETIME, `${where}.start`);
  if (p.end) assert.match(p.end, DATETIME, `${where}.end`);
  if (p.start && p.end) assert.ok(p.start <= p.end, `${where}: start after end`);
}

/** Checks @r against the R4 rules of its type; returns it. */
function checkResource(r) {
  const t = r.resourceType;
  noEmpties(r, t);
  // Served resources have ids; a search Bundle and an OperationOutcome need none.
  if (!['Bundle', 'OperationOutcome'].includes(t) || r.id !== undefined) assert.match(r.id, ID, `${t}.id`);
  if (r.meta?.lastUpdated) assert.match(r.meta.lastUpdated, INSTANT, `${t}.meta.lastUpdated`);
  switch (t) {
  case 'Schedule':
    assert.ok(r.actor.length >= 1, 'Schedule.actor is 1..*');
    r.actor.forEach((a, i) => checkRef(a, `Schedule.actor[${i}]`));
    (r.serviceType ?? []).forEach((c, i) => checkConcept(c, `Schedule.serviceType[${i}]`));
    if (r.planningHorizon) checkPeriod(r.planningHorizon, 'Schedule.planningHorizon');
    break;
  case 'Slot':
    checkRef(r.schedule, 'Slot.schedule');
    assert.match(r.schedule.reference, /^Schedule\//);
    assert.ok(VALUE_SETS.Slot.includes(r.status), `Slot.status ${r.status}`);
    assert.match(r.start, INSTANT, 'Slot.start');
    assert.match(r.end, INSTANT, 'Slot.end');
    assert.ok(r.start < r.end);
    if (r.appointmentType) checkConcept(r.appointmentType, 'Slot.appointmentType');
    break;
  case 'Appointment':
    assert.ok(VALUE_SETS.Appointment.includes(r.status), `Appointment.status ${r.status}`);
    assert.ok(r.participant.length >= 1, 'Appointment.participant is 1..*');
    r.participant.forEach((p, i) => {
      assert.ok(PARTICIPANT_STATUS.includes(p.status), `participant[${i}].status`);
      assert.ok(p.type || p.actor, 'app-1: type or actor');
      if (p.actor) checkRef(p.actor, `participant[${i}].actor`);
      (p.type ?? []).forEach((c, j) => checkConcept(c, `participant[${i}].type[${j}]`));
    });
    // app-2 and app-3: start and end both, and required unless proposed/cancelled.
    assert.equal(!!r.start, !!r.end, 'app-2');
    if (!['proposed', 'cancelled', 'waitlist'].includes(r.status)) assert.ok(r.start, 'app-3');
    if (r.start) assert.match(r.start, INSTANT);
    if (r.end) assert.match(r.end, INSTANT);
    // app-4: a cancelation reason only on cancelled or noshow appointments.
    if (r.cancelationReason) assert.ok(['cancelled', 'noshow'].includes(r.status), 'app-4');
    if (r.created) assert.match(r.created, DATETIME);
    (r.slot ?? []).forEach((s, i) => checkRef(s, `Appointment.slot[${i}]`));
    (r.basedOn ?? []).forEach((s, i) => checkRef(s, `Appointment.basedOn[${i}]`));
    break;
  case 'Encounter':
    assert.ok(VALUE_SETS.Encounter.includes(r.status), `Encounter.status ${r.status}`);
    checkCoding(r.class, 'Encounter.class');
    checkRef(r.subject, 'Encounter.subject');
    if (r.period) checkPeriod(r.period, 'Encounter.period');
    (r.participant ?? []).forEach((p, i) => p.individual && checkRef(p.individual, `participant[${i}]`));
    (r.diagnosis ?? []).forEach((d, i) => checkRef(d.condition, `diagnosis[${i}].condition`));
    (r.appointment ?? []).forEach((a, i) => checkRef(a, `appointment[${i}]`));
    break;
  case 'ServiceRequest':
    assert.ok(VALUE_SETS.ServiceRequest.includes(r.status), `ServiceRequest.status ${r.status}`);
    assert.ok(INTENTS.includes(r.intent), `ServiceRequest.intent ${r.intent}`);
    checkRef(r.subject, 'ServiceRequest.subject');
    if (r.priority) assert.ok(PRIORITIES.includes(r.priority));
    if (r.requester) checkRef(r.requester, 'ServiceRequest.requester');
    (r.performer ?? []).forEach((p, i) => checkRef(p, `performer[${i}]`));
    if (r.authoredOn) assert.match(r.authoredOn, DATETIME);
    if (r.occurrencePeriod) checkPeriod(r.occurrencePeriod, 'ServiceRequest.occurrencePeriod');
    if (r.code) checkConcept(r.code, 'ServiceRequest.code');
    break;
  case 'Bundle':
    assert.equal(r.type, 'searchset');
    assert.ok(Number.isInteger(r.total) && r.total >= 0, 'Bundle.total');
    (r.entry ?? []).forEach((e) => {
      assert.equal(e.search.mode, 'match');
      // Absolute, from [server] public_url (default https://listen_address:port).
      assert.match(e.fullUrl, new RegExp(`^https://127\\.0\\.0\\.1:\\d+/api/v1/fhir/${e.resource.resourceType}/${e.resource.id}$`));
      checkResource(e.resource);
    });
    break;
  case 'OperationOutcome':
    assert.ok(r.issue.length >= 1);
    for (const i of r.issue) {
      assert.ok(['fatal', 'error', 'warning', 'information'].includes(i.severity));
      assert.equal(typeof i.code, 'string');
    }
    break;
  default:
    assert.fail(`unexpected resourceType ${t}`);
  }
  return r;
}

// ---------------------------------------------------------------- helpers

async function ok(resPromise, status, what) {
  const res = await resPromise;
  assert.equal(res.status, status, `${what}: ${res.text}`);
  return res.json;
}

test('FHIR R4 read-only API', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  // Rooms open two hours early so the first visits (the next slots) can be
  // checked in at once; a one-day horizon keeps the roster small.
  const server = await startServer(h, cluster, {
    extraConfig: `${cluster.config()}\n[clinic]\nroom_open_minutes=120\nslot_horizon_days=1\n`,
  });
  const w = await makeWorld(server);
  const as = (acct) => acct.token;

  /** GET under /fhir: the FHIR content type and structure; returns the response. */
  async function fhir(acct, path) {
    const res = await api(server, 'GET', `/fhir/${path}`, { token: as(acct) });
    if (res.status === 200 || res.json?.resourceType === 'OperationOutcome') {
      assert.match(res.headers['content-type'], /^application\/fhir\+json/, path);
      checkResource(res.json);
    }
    return res;
  }
  const read = async (acct, path) => ok(fhir(acct, path), 200, path);

  // A hospital with a cardiology department and a specialist who works there.
  const hospital = (await ok(api(server, 'POST', '/institutions', {
    token: as(w.admin), body: { name: 'City Hospital', kind: 'hospital' },
  }), 201, 'hospital')).institution;
  const dept = await ok(api(server, 'POST', '/departments', {
    token: as(w.admin), body: { institution_id: hospital.id, name: 'Cardiology' },
  }), 201, 'department');
  const hspec = { email: uniqueEmail('hspec'), role: 'specialist' };
  hspec.id = (await ok(api(server, 'POST', '/admin/users', {
    token: as(w.admin),
    body: { email: hspec.email, password: PASSWORD, display_name: 'Dr Heart', role: 'specialist',
      institution_id: hospital.id },
  }), 201, 'hospital specialist')).user.id;
  await enrolStaff(server, hspec);
  await ok(api(server, 'PUT', `/doctors/${hspec.id}/profile`, {
    token: as(hspec), body: { licence_number: `LIC-H-${hspec.id}`, specialty: 'cardiology' },
  }), 200, 'profile');
  await ok(api(server, 'POST', `/doctors/${hspec.id}/verify`, {
    token: as(w.admin), body: { verdict: 'verified' },
  }), 200, 'verify');
  await ok(api(server, 'PUT', `/doctors/${hspec.id}/department`, {
    token: as(w.admin), body: { department_id: dept.id },
  }), 200, 'department');

  // Rosters: every day, 30-minute slots, in UTC.
  const templates = (visit_type) => [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
    weekday, start: '00:00', end: '23:30', slot_minutes: 30, visit_type,
  }));
  await ok(api(server, 'PUT', `/doctors/${w.doctor.id}/roster`, {
    token: as(w.doctor), body: { timezone: 'UTC', templates: templates('video') },
  }), 200, 'doctor roster');
  await ok(api(server, 'PUT', `/doctors/${hspec.id}/roster`, {
    token: as(hspec), body: { timezone: 'UTC', templates: templates('follow_up') },
  }), 200, 'specialist roster');
  const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
  const freeSlots = async (doctor) => (await ok(api(server, 'GET',
    `/doctors/${doctor.id}/slots?from=${day(0)}&to=${day(1)}`, { token: as(w.patient) }), 200, 'slots')).items;
  // Not one about to start: booking needs a slot in the future.
  const soon = new Date(Date.now() + 120000).toISOString();
  const docSlots = (await freeSlots(w.doctor)).filter((s) => s.starts_at > soon);
  const specSlots = (await freeSlots(hspec)).filter((s) => s.starts_at > soon);

  // Bookings: the patient's visit (the first slot) and patient2's.
  const a1 = await ok(api(server, 'POST', '/appointments', {
    token: as(w.patient), body: { slot_id: docSlots[0].id, reason: 'chest pain' },
  }), 201, 'book a1');
  const a2 = await ok(api(server, 'POST', '/appointments', {
    token: as(w.patient2), body: { slot_id: docSlots[1].id },
  }), 201, 'book a2');
  // A blocked slot.
  const blocked = docSlots[2];
  await ok(api(server, 'POST', `/slots/${blocked.id}/block`, { token: as(w.doctor) }), 200, 'block');

  // An emergency referral to the hospital's specialist, accepted and
  // scheduled (a slot at another time than a1), and a cancelled one.
  const r1 = await ok(api(server, 'POST', '/referrals', {
    token: as(w.doctor),
    body: { patient_id: w.patient.id, to_institution_id: hospital.id, to_department_id: dept.id,
      to_specialist_id: hspec.id, reason: 'suspected arrhythmia', urgency: 'emergency' },
  }), 201, 'referral');
  await ok(api(server, 'POST', `/referrals/${r1.id}/accept`, { token: as(hspec), body: {} }), 200, 'accept');
  const jointSlot = specSlots.find((s) => s.starts_at !== a1.starts_at);
  const r1s = await ok(api(server, 'POST', `/referrals/${r1.id}/schedule`, {
    token: as(hspec), body: { slot_id: jointSlot.id },
  }), 200, 'schedule');
  const a3 = r1s.appointment;
  const r2 = await ok(api(server, 'POST', '/referrals', {
    token: as(w.doctor),
    body: { patient_id: w.patient.id, to_institution_id: hospital.id, reason: 'second opinion' },
  }), 201, 'referral 2');
  await ok(api(server, 'POST', `/referrals/${r2.id}/cancel`, { token: as(w.doctor), body: { reason: 'resolved' } }),
    200, 'cancel referral 2');

  await t.test('Schedule: one per roster, the doctor as actor', async () => {
    const s = await read(w.patient, `Schedule/${w.doctor.id}`);
    assert.equal(s.resourceType, 'Schedule');
    assert.equal(s.id, String(w.doctor.id));
    assert.equal(s.active, true);
    assert.deepEqual(s.actor, [{ reference: `Practitioner/${w.doctor.id}`, display: 'The doctor' }]);
    assert.deepEqual(s.specialty, [{ text: 'cardiology' }]);
    assert.deepEqual(s.serviceType, [{ text: 'video' }]);
    assert.ok(s.planningHorizon.start <= docSlots[0].starts_at);
    const spec = await read(w.patient, `Schedule/${hspec.id}`);
    assert.deepEqual(spec.serviceType, [{ text: 'follow_up' }]);

    const b = await read(w.clinic, `Schedule?actor=Practitioner/${hspec.id}`);
    assert.equal(b.total, 1);
    assert.equal(b.entry[0].resource.id, String(hspec.id));
    assert.equal((await read(w.clinic, 'Schedule')).total, 2);
    // A doctor without a roster has no Schedule.
    const none = await fhir(w.patient, `Schedule/${w.specialist.id}`);
    assert.equal(none.status, 404);
    assert.equal(none.json.issue[0].code, 'not-found');
  });

  await t.test('Slot: free, busy, busy-unavailable; search by schedule, status and start', async () => {
    const booked = await read(w.doctor, `Slot/${docSlots[0].id}`);
    assert.equal(booked.status, 'busy');
    assert.equal(booked.schedule.reference, `Schedule/${w.doctor.id}`);
    assert.equal(booked.start, docSlots[0].starts_at);
    assert.equal(booked.end, docSlots[0].ends_at);
    assert.deepEqual(booked.serviceType, [{ text: 'video' }]);
    assert.equal(booked.appointmentType.coding[0].code, 'ROUTINE');
    assert.equal((await read(w.doctor, `Slot/${blocked.id}`)).status, 'busy-unavailable');
    const free = await read(w.patient, `Slot/${docSlots[3].id}`);
    assert.equal(free.status, 'free');
    assert.equal((await read(w.patient, `Slot/${specSlots[0].id}`)).appointmentType.coding[0].code, 'FOLLOWUP');
    // The patient sees their own visit's slot, not a blocked one or someone else's.
    assert.equal((await read(w.patient, `Slot/${docSlots[0].id}`)).status, 'busy');
    assert.equal((await fhir(w.patient, `Slot/${blocked.id}`)).status, 404);
    assert.equal((await fhir(w.patient, `Slot/${docSlots[1].id}`)).status, 404);

    // Search: the free slots of the schedule are those GET /slots lists.
    const freeNow = await freeSlots(w.doctor);
    const page = await read(w.patient, `Slot?schedule=Schedule/${w.doctor.id}&status=free&_count=5`);
    assert.equal(page.total, freeNow.length);
    assert.deepEqual(page.entry.map((e) => e.resource.id), freeNow.slice(0, 5).map((s) => String(s.id)));
    assert.ok(page.entry.every((e) => e.resource.status === 'free'));
    const next = page.link.find((l) => l.relation === 'next');
    assert.ok(next.url.startsWith(`${server.url}/api/v1/fhir/Slot?`), next.url);
    assert.match(next.url, /_offset=5$/);
    const page2 = await read(w.patient, next.url.replace(`${server.url}/api/v1/fhir/`, ''));
    assert.deepEqual(page2.entry.map((e) => e.resource.id), freeNow.slice(5, 10).map((s) => String(s.id)));
    // The doctor sees all three states; start=ge narrows by time.
    const all = await read(w.doctor, `Slot?schedule=${w.doctor.id}&_count=200`);
    assert.deepEqual(new Set(all.entry.map((e) => e.resource.status)), new Set(['busy', 'busy-unavailable', 'free']));
    const later = await read(w.doctor, `Slot?schedule=${w.doctor.id}&start=ge${encodeURIComponent(docSlots[3].starts_at)}`);
    assert.equal(later.total, all.entry.filter((e) => e.resource.start >= docSlots[3].starts_at).length);
    assert.ok(later.total < all.total);
    const busy = await read(w.doctor, `Slot?schedule=${w.doctor.id}&status=busy,busy-unavailable`);
    assert.deepEqual(busy.entry.map((e) => e.resource.id).sort(),
      [docSlots[0].id, docSlots[1].id, blocked.id].map(String).sort());
    assert.equal((await read(w.patient, `Slot?schedule=${w.doctor.id}&_count=0`)).entry, undefined);
  });

  await t.test('Appointment: participants, slot, basedOn and the status mapping', async () => {
    let a = await read(w.patient, `Appointment/${a1.id}`);
    assert.equal(a.status, 'booked');
    assert.equal(a.start, a1.starts_at);
    assert.equal(a.end, a1.ends_at);
    assert.deepEqual(a.slot, [{ reference: `Slot/${docSlots[0].id}` }]);
    assert.deepEqual(a.reasonCode, [{ text: 'chest pain' }]);
    assert.deepEqual(a.participant[0], {
      actor: { reference: `Patient/${w.patient.id}`, display: 'The patient' }, required: 'required', status: 'accepted',
    });
    assert.equal(a.participant[1].actor.reference, `Practitioner/${w.doctor.id}`);
    assert.equal(a.participant[1].type[0].coding[0].code, 'PPRF');
    assert.equal(a.basedOn, undefined);

    await ok(api(server, 'POST', `/appointments/${a1.id}/check-in`, { token: as(w.patient) }), 200, 'check-in');
    assert.equal((await read(w.doctor, `Appointment/${a1.id}`)).status, 'arrived');

    // The referral's consultation: basedOn the ServiceRequest, the referring
    // doctor a participant (REF).
    a = await read(hspec, `Appointment/${a3.id}`);
    assert.deepEqual(a.basedOn, [{ reference: `ServiceRequest/${r1.id}` }]);
    assert.equal(a.participant[1].actor.reference, `Practitioner/${hspec.id}`);
    const ref = a.participant.find((p) => p.type?.[0].coding[0].code === 'REF');
    assert.equal(ref.actor.reference, `Practitioner/${w.doctor.id}`);
    assert.equal(a.appointmentType.coding[0].code, 'FOLLOWUP');

    // Searches: the patient's own; patient2 finds none of them.
    const mine = await read(w.patient, `Appointment?patient=Patient/${w.patient.id}`);
    assert.equal(mine.total, 2);
    assert.deepEqual(mine.entry.map((e) => e.resource.id).sort(), [a1.id, a3.id].map(String).sort());
    assert.equal((await read(w.patient2, `Appointment?patient=${w.patient.id}`)).total, 0);
    assert.equal((await read(w.patient2, 'Appointment')).total, 1);
    // a1 has arrived; the doctor refers a3 and so takes part in it.
    const booked = await read(w.doctor, `Appointment?practitioner=Practitioner/${w.doctor.id}&status=booked`);
    assert.deepEqual(booked.entry.map((e) => e.resource.id).sort(), [a2.id, a3.id].map(String).sort());
    // The referring doctor is a practitioner of the joint consultation.
    const joint = await read(w.doctor, `Appointment?practitioner=${w.doctor.id}&date=eq${a3.starts_at.slice(0, 10)}`);
    assert.ok(joint.entry.some((e) => e.resource.id === String(a3.id)));
    const dated = await read(w.admin, `Appointment?date=lt${encodeURIComponent(a1.starts_at)}`);
    assert.equal(dated.total, 0);
  });

  await t.test('Encounter: only once admitted; class VR, in-progress then finished', async () => {
    const before = await fhir(w.doctor, `Encounter/${a1.id}`);
    assert.equal(before.status, 404);
    assert.equal(before.json.resourceType, 'OperationOutcome');
    await ok(api(server, 'POST', `/appointments/${a1.id}/admit`, { token: as(w.doctor) }), 200, 'admit');
    let e = await read(w.patient, `Encounter/${a1.id}`);
    assert.equal(e.status, 'in-progress');
    assert.deepEqual(e.class, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' });
    assert.equal(e.subject.reference, `Patient/${w.patient.id}`);
    assert.deepEqual(e.appointment, [{ reference: `Appointment/${a1.id}` }]);
    assert.equal(e.participant[0].individual.reference, `Practitioner/${w.doctor.id}`);
    assert.equal(e.participant[0].type[0].coding[0].code, 'PPRF');
    assert.match(e.period.start, INSTANT);
    assert.equal(e.period.end, undefined);
    assert.equal((await read(w.patient, `Appointment/${a1.id}`)).status, 'fulfilled');

    await ok(api(server, 'POST', `/appointments/${a1.id}/complete`, {
      token: as(w.doctor), body: { diagnosis: 'benign palpitations', advice: 'less coffee' },
    }), 200, 'complete');
    e = await read(w.patient, `Encounter/${a1.id}`);
    assert.equal(e.status, 'finished');
    assert.deepEqual(e.diagnosis, [{ condition: { display: 'benign palpitations' }, rank: 1 }]);
    assert.deepEqual(e.reasonCode, [{ text: 'chest pain' }]);
    assert.match(e.period.end, INSTANT);
    assert.equal((await read(w.patient, `Appointment/${a1.id}`)).status, 'fulfilled');

    const found = await read(w.doctor, `Encounter?patient=Patient/${w.patient.id}&status=finished`);
    assert.equal(found.total, 1);
    assert.equal(found.entry[0].resource.id, String(a1.id));
    assert.equal((await read(w.doctor, `Encounter?appointment=Appointment/${a3.id}`)).total, 0);
    assert.equal((await read(w.admin, 'Encounter?status=in-progress')).total, 0);
  });

  await t.test('ServiceRequest: referrals with status, intent, priority and parties', async () => {
    const s = await read(w.doctor, `ServiceRequest/${r1.id}`);
    assert.equal(s.status, 'active');
    assert.equal(s.intent, 'order');
    assert.equal(s.priority, 'stat');
    assert.deepEqual(s.subject, { reference: `Patient/${w.patient.id}`, display: 'The patient' });
    assert.equal(s.requester.reference, `Practitioner/${w.doctor.id}`);
    assert.deepEqual(s.performer.map((p) => p.reference), [`Practitioner/${hspec.id}`, `Organization/${hospital.id}`]);
    assert.deepEqual(s.performerType, { text: 'Cardiology' });
    assert.deepEqual(s.reasonCode, [{ text: 'suspected arrhythmia' }]);
    assert.equal(s.code.coding[0].code, '3457005');
    assert.deepEqual(s.occurrencePeriod, { start: a3.starts_at, end: a3.ends_at });
    // The patient reads their own referral; the receiving specialist too.
    assert.equal((await read(w.patient, `ServiceRequest/${r1.id}`)).id, String(r1.id));
    assert.equal((await read(hspec, `ServiceRequest/${r1.id}`)).id, String(r1.id));
    const cancelled = await read(w.doctor, `ServiceRequest/${r2.id}`);
    assert.equal(cancelled.status, 'revoked');
    assert.equal(cancelled.priority, 'routine');
    assert.deepEqual(cancelled.note.map((n) => [n.text, n.authorReference.reference]),
      [['cancelled: resolved', `Practitioner/${w.doctor.id}`]]);
    assert.equal(s.note, undefined);

    // The joint consultation takes place and the specialist reports back.
    await ok(api(server, 'POST', `/appointments/${a3.id}/check-in`, { token: as(w.patient) }), 200, 'check-in a3');
    await ok(api(server, 'POST', `/appointments/${a3.id}/admit`, { token: as(hspec) }), 200, 'admit a3');
    const enc = await read(w.doctor, `Encounter/${a3.id}`);
    assert.deepEqual(enc.basedOn, [{ reference: `ServiceRequest/${r1.id}` }]);
    assert.deepEqual(enc.participant.map((p) => [p.type[0].coding[0].code, p.individual.reference]),
      [['PPRF', `Practitioner/${hspec.id}`], ['REF', `Practitioner/${w.doctor.id}`]]);
    assert.deepEqual(enc.serviceProvider, { reference: `Organization/${hospital.id}`, display: 'City Hospital' });
    await ok(api(server, 'POST', `/referrals/${r1.id}/report`, {
      token: as(hspec), body: { report: 'sinus rhythm; no treatment needed' },
    }), 200, 'report');
    const reported = await read(w.doctor, `ServiceRequest/${r1.id}`);
    assert.equal(reported.status, 'completed');
    assert.deepEqual(reported.note.map((n) => [n.text, n.authorReference.reference]),
      [['sinus rhythm; no treatment needed', `Practitioner/${hspec.id}`]]);

    const all = await read(w.doctor, `ServiceRequest?subject=Patient/${w.patient.id}`);
    assert.equal(all.total, 2);
    const revoked = await read(w.doctor, 'ServiceRequest?status=revoked');
    assert.deepEqual(revoked.entry.map((e) => e.resource.id), [String(r2.id)]);
    assert.equal((await read(w.doctor, 'ServiceRequest?status=completed,active')).total, 1);
    assert.equal((await read(w.patient2, 'ServiceRequest')).total, 0);
    // The hospital's specialist receives both (r2 names no specialist).
    assert.equal((await read(hspec, `ServiceRequest?requester=Practitioner/${w.doctor.id}`)).total, 2);
    assert.equal((await read(hspec, `ServiceRequest?requester=Practitioner/${hspec.id}`)).total, 0);
  });

  await t.test('refusals: other patients 404, auditors 403, bad searches 400', async () => {
    for (const path of [`Appointment/${a1.id}`, `Encounter/${a1.id}`, `ServiceRequest/${r1.id}`]) {
      const res = await fhir(w.patient2, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.resourceType, 'OperationOutcome');
      assert.equal(res.json.issue[0].code, 'not-found');
    }
    // A clinician who is no party to the visit cannot read it either.
    assert.equal((await fhir(w.specialist, `Appointment/${a1.id}`)).status, 404);
    for (const path of [`Appointment/${a1.id}`, 'Slot', `Schedule/${w.doctor.id}`]) {
      const res = await api(server, 'GET', `/fhir/${path}`, { token: as(w.auditor) });
      assert.equal(res.status, 403, path);
      assert.equal(errorCode(res), 'forbidden');
    }
    const unknown = await fhir(w.doctor, 'Slot?colour=blue');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.issue[0].code, 'not-supported');
    assert.match(unknown.json.issue[0].details.text, /colour/);
    const badDate = await fhir(w.doctor, 'Appointment?date=tomorrow');
    assert.equal(badDate.status, 400);
    assert.equal(badDate.json.issue[0].code, 'invalid');
    assert.equal((await fhir(w.doctor, 'Appointment?patient=Practitioner/1')).status, 400);
    assert.equal((await fhir(w.doctor, 'Slot?_count=1000')).status, 400);
    assert.equal((await api(server, 'GET', '/fhir/Patient/1', { token: as(w.doctor) })).status, 404);
    assert.equal((await api(server, 'GET', '/fhir/Slot', {})).status, 401);
  });

  await t.test('reads and searches of patient data are audited', async () => {
    const audit = async (q) => (await ok(api(server, 'GET', `/audit?limit=1000&${q}`, { token: as(w.auditor) }),
      200, 'audit')).items;
    const reads = await audit(`action=fhir.read&patient=${w.patient.id}`);
    const byDoctor = reads.find((e) => e.actor_id === w.doctor.id && e.object_type === 'ServiceRequest');
    assert.equal(byDoctor.object_id, String(r1.id));
    assert.equal(byDoctor.result, 'ok');
    assert.equal(byDoctor.actor_role, 'doctor');
    assert.ok(reads.some((e) => e.actor_id === w.patient.id && e.object_type === 'Encounter'
      && e.object_id === String(a1.id)));
    assert.ok(reads.some((e) => e.actor_id === hspec.id && e.object_type === 'Appointment'
      && e.object_id === String(a3.id)));
    // Refused reads leave nothing behind as "ok".
    assert.ok(!reads.some((e) => e.actor_id === w.patient2.id));
    const searches = await audit(`action=fhir.search&actor=${w.doctor.id}`);
    const sr = searches.find((e) => e.object_type === 'ServiceRequest' && e.detail.includes('subject='));
    assert.equal(sr.patient_id, w.patient.id);
    assert.equal(sr.detail, `ServiceRequest?subject=Patient%2F${w.patient.id}`);
    // Slots and schedules are not patient data: not audited.
    assert.ok(!searches.some((e) => ['Slot', 'Schedule'].includes(e.object_type)));
    // The auditor's refused attempt is recorded as denied.
    const denied = await audit(`action=fhir.read&actor=${w.auditor.id}`);
    assert.ok(denied.length >= 1 && denied.every((e) => e.result === 'denied'));
  });
});
