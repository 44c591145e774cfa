// clinic-lib.mjs — building blocks for the scheduling, visit and referral
// tests: institutions, verified doctors in departments, rosters with slots
// at a chosen time, patients, and booking.
import assert from 'node:assert/strict';

import { api, enrolStaff, login, PASSWORD, uniqueEmail } from './lib.mjs';

/** Expects @status; returns the JSON body. */
export async function expectOk(resPromise, status, what) {
  const res = await resPromise;
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  return res.json;
}

/** Expects a refusal with @status and error code @code; returns the message. */
export async function expectError(resPromise, status, code, what) {
  const res = await resPromise;
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.json?.error?.code, code, `${what}: ${res.text}`);
  assert.ok(res.json.error.message.length > 0, `${what}: empty message`);
  return res.json.error.message;
}

export async function makeInstitution(server, admin, name, kind) {
  const j = await expectOk(api(server, 'POST', '/institutions', { token: admin.token, body: { name, kind } }),
    201, `institution ${name}`);
  return j.institution;
}

export async function makeDepartment(server, admin, institutionId, name) {
  return expectOk(api(server, 'POST', '/departments', {
    token: admin.token, body: { institution_id: institutionId, name },
  }), 201, `department ${name}`);
}

/** A verified doctor or specialist of @institutionId, enrolled and logged
 *  in, optionally in @departmentId. */
export async function makeDoctor(server, admin, { key, role = 'doctor', institutionId, departmentId,
  specialty = 'cardiology' }) {
  const acct = { email: uniqueEmail(key), role };
  const body = { email: acct.email, password: PASSWORD, display_name: `Dr ${key}`, role };
  if (institutionId) body.institution_id = institutionId;
  const j = await expectOk(api(server, 'POST', '/admin/users', { token: admin.token, body }), 201, `create ${key}`);
  acct.id = j.user.id;
  await enrolStaff(server, acct);
  await expectOk(api(server, 'PUT', `/doctors/${acct.id}/profile`, {
    token: acct.token, body: { licence_number: `LIC-${key}-${acct.id}`, specialty },
  }), 200, `profile ${key}`);
  await expectOk(api(server, 'POST', `/doctors/${acct.id}/verify`, {
    token: admin.token, body: { verdict: 'verified' },
  }), 200, `verify ${key}`);
  if (departmentId)
    await expectOk(api(server, 'PUT', `/doctors/${acct.id}/department`, {
      token: admin.token, body: { department_id: departmentId },
    }), 200, `department of ${key}`);
  return acct;
}

export async function makePatient(server, key) {
  const acct = { email: uniqueEmail(key), role: 'patient' };
  await expectOk(api(server, 'POST', '/auth/register', {
    body: { email: acct.email, password: PASSWORD, display_name: `Patient ${key}` },
  }), 201, `register ${key}`);
  await login(server, acct);
  return acct;
}

/** Gives @doctor an (empty-template) roster plus an extra session of @count
 *  slots of @minutes starting @startInMs from now; returns those slots. */
export async function openSlots(server, doctor, { startInMs = 86400000, count = 4, minutes = 15,
  visitType = 'video' } = {}) {
  await expectOk(api(server, 'PUT', `/doctors/${doctor.id}/roster`, {
    token: doctor.token, body: { timezone: 'Asia/Shanghai', templates: [] },
  }), 200, 'roster');
  // Whole seconds: slot times are compared to the second.
  const start = new Date(Math.ceil((Date.now() + startInMs) / 1000) * 1000);
  const end = new Date(start.getTime() + count * minutes * 60000);
  await expectOk(api(server, 'POST', `/doctors/${doctor.id}/roster/exceptions`, {
    token: doctor.token,
    body: { kind: 'extra', starts_at: start.toISOString(), ends_at: end.toISOString(),
      slot_minutes: minutes, visit_type: visitType },
  }), 201, 'extra session');
  const day = (d) => d.toISOString().slice(0, 10);
  const list = await expectOk(api(server, 'GET',
    `/doctors/${doctor.id}/slots?from=${day(start)}&to=${day(end)}`, { token: doctor.token }), 200, 'slots');
  const slots = list.items.filter((s) => Date.parse(s.starts_at) >= start.getTime()
    && Date.parse(s.starts_at) < end.getTime());
  assert.equal(slots.length, count, `expected ${count} slots, got ${JSON.stringify(list.items)}`);
  return slots;
}

export async function book(server, patient, slotId, reason) {
  return expectOk(api(server, 'POST', '/appointments', {
    token: patient.token, body: reason ? { slot_id: slotId, reason } : { slot_id: slotId },
  }), 201, `book slot ${slotId}`);
}
