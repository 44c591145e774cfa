// test-roles.mjs — the role matrix: every role (and anonymous) against every
// endpoint; allowed calls succeed, forbidden ones get 403 (401 anonymous),
// including a patient guessing other patients' ids, a doctor without a
// care relationship and clinic staff outside the patient's institution.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  api, Cluster, createHarness, enrolStaff, errorCode, makeWorld, PASSWORD, startServer, uniqueEmail,
} from './lib.mjs';

const ROLES = ['anonymous', 'patient', 'doctorU', 'doctor', 'specialist', 'clinic', 'admin', 'auditor'];

test('role matrix', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);
  const w = await makeWorld(server);

  const others = (allowed, ok) => Object.fromEntries(ROLES.map((r) =>
    [r, allowed.includes(r) ? ok : r === 'anonymous' ? 401 : 403]));
  const ALL = ROLES.filter((r) => r !== 'anonymous');

  // Each row: a request per role and the expected status per role.
  const matrix = [
    { name: 'GET /me', req: () => ['GET', '/me'], expect: others(ALL, 200) },
    { name: 'GET /admin/users', req: () => ['GET', '/admin/users?limit=2'], expect: others(['admin'], 200) },
    {
      name: 'POST /admin/users',
      req: () => ['POST', '/admin/users', { email: uniqueEmail('new'), password: PASSWORD, display_name: 'New', role: 'patient' }],
      expect: others(['admin'], 201),
    },
    { name: 'GET /institutions', req: () => ['GET', '/institutions'], expect: others(ALL.filter((r) => r !== 'auditor'), 200) },
    {
      name: 'POST /institutions',
      req: () => ['POST', '/institutions', { name: 'Hospital X', kind: 'hospital' }],
      expect: others(['admin'], 201),
    },
    { name: 'GET /doctors/{id}', req: () => ['GET', `/doctors/${w.doctor.id}`], expect: others(ALL.filter((r) => r !== 'auditor'), 200) },
    {
      // Own profile only (doctorU edits doctorU's); admins any.
      name: 'PUT /doctors/{id}/profile',
      req: () => ['PUT', `/doctors/${w.doctorU.id}/profile`, { licence_number: 'LIC-U', specialty: 'dermatology' }],
      expect: others(['doctorU', 'admin'], 200),
    },
    {
      name: 'POST /doctors/{id}/verify',
      req: () => ['POST', `/doctors/${w.doctorU.id}/verify`, { verdict: 'rejected' }],
      expect: others(['admin'], 200),
    },
    {
      name: 'POST /doctors/{id}/patients/{pid}',
      req: () => ['POST', `/doctors/${w.specialist.id}/patients/${w.patient2.id}`],
      expect: others(['clinic', 'admin'], 204),
    },
    {
      name: 'DELETE /doctors/{id}/patients/{pid}',
      before: async () => {
        const r = await api(server, 'POST', `/doctors/${w.specialist.id}/patients/${w.patient2.id}`, { token: w.admin.token });
        assert.equal(r.status, 204, r.text);
      },
      req: () => ['DELETE', `/doctors/${w.specialist.id}/patients/${w.patient2.id}`],
      expect: others(['clinic', 'admin'], 204),
    },
    {
      name: 'POST /institutions/{id}/patients/{pid}',
      req: () => ['POST', `/institutions/${w.institution.id}/patients/${w.patient2.id}`],
      expect: others(['clinic', 'admin'], 204),
    },
    {
      name: 'DELETE /institutions/{id}/patients/{pid}',
      before: async () => {
        const r = await api(server, 'POST', `/institutions/${w.institution.id}/patients/${w.patient2.id}`, { token: w.admin.token });
        assert.equal(r.status, 204, r.text);
      },
      req: () => ['DELETE', `/institutions/${w.institution.id}/patients/${w.patient2.id}`],
      expect: others(['clinic', 'admin'], 204),
    },
    {
      // Only the patient, a verified doctor caring for them and staff of an
      // institution they are linked to (this one is linked to none).
      name: 'GET /patients/{id}',
      req: () => ['GET', `/patients/${w.patient.id}`],
      expect: others(['patient', 'doctor'], 200),
    },
    { name: 'GET /audit', req: () => ['GET', '/audit?limit=5'], expect: others(['auditor'], 200) },
    { name: 'GET /audit/export', req: () => ['GET', '/audit/export'], expect: others(['auditor'], 200) },
    { name: 'GET /audit/verify', req: () => ['GET', '/audit/verify'], expect: others(['auditor'], 200) },
    {
      name: 'POST /room-tokens',
      req: () => ['POST', '/room-tokens', { room: 'consult-1' }],
      expect: others(['patient', 'doctor', 'specialist', 'clinic'], 201),
    },
  ];

  const failures = [];
  for (const row of matrix) {
    for (const role of ROLES) {
      if (row.before) await row.before();
      const [method, p, body] = row.req();
      const token = role === 'anonymous' ? undefined : w[role].token;
      const res = await api(server, method, p, { token, body });
      const want = row.expect[role];
      if (res.status !== want) failures.push(`${row.name} as ${role}: expected ${want}, got ${res.status} ${res.text}`);
      else if (want >= 400) {
        const code = errorCode(res);
        const wantCode = want === 401 ? 'unauthorized' : 'forbidden';
        if (code !== wantCode) failures.push(`${row.name} as ${role}: code ${code}, expected ${wantCode}`);
      }
    }
  }
  assert.deepEqual(failures, []);

  await t.test('a patient guessing ids reads nobody else', async () => {
    // Another patient, a doctor, an admin and ids that do not exist: all 403,
    // so existence does not leak.
    for (const id of [w.patient2.id, w.doctor.id, w.admin.id, w.patient2.id + 1000, 999999999]) {
      const res = await api(server, 'GET', `/patients/${id}`, { token: w.patient.token });
      assert.equal(res.status, 403, `patient reading ${id}: ${res.text}`);
      assert.equal(errorCode(res), 'forbidden');
    }
    const own = await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.patient.token });
    assert.equal(own.json.patient.id, w.patient.id);
  });

  await t.test('a doctor reads only patients in their care', async () => {
    const res = await api(server, 'GET', `/patients/${w.patient2.id}`, { token: w.doctor.token });
    assert.equal(res.status, 403);
    const mine = await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.doctor.token });
    assert.equal(mine.status, 200);
    assert.equal(mine.json.patient.display_name, 'The patient');
    // Revoking the relationship takes the access away at once.
    assert.equal((await api(server, 'DELETE', `/doctors/${w.doctor.id}/patients/${w.patient.id}`, { token: w.clinic.token })).status, 204);
    assert.equal((await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.doctor.token })).status, 403);
  });

  await t.test('an unverified doctor cannot be given patients or join calls', async () => {
    const grant = await api(server, 'POST', `/doctors/${w.doctorU.id}/patients/${w.patient.id}`, { token: w.admin.token });
    assert.equal(grant.status, 403, grant.text);
    const tok = await api(server, 'POST', '/room-tokens', { token: w.doctorU.token, body: { room: 'r1' } });
    assert.equal(tok.status, 403);
  });

  await t.test('room tokens carry the real id, name and mapped role', async () => {
    const res = await api(server, 'POST', '/room-tokens', { token: w.clinic.token, body: { room: 'consult-9' } });
    assert.equal(res.status, 201);
    const claims = JSON.parse(Buffer.from(res.json.token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, String(w.clinic.id));
    assert.equal(claims.name, 'The clinic');
    assert.equal(claims.role, 'clinic');
    assert.equal(claims.room, 'consult-9');
    assert.equal(res.json.role, 'clinic');
  });

  await t.test('licence numbers are shown to the doctor and admins only', async () => {
    const byPatient = await api(server, 'GET', `/doctors/${w.doctor.id}`, { token: w.patient.token });
    assert.equal(byPatient.json.doctor.verification, 'verified');
    assert.equal('licence_number' in byPatient.json.doctor, false);
    const byAdmin = await api(server, 'GET', `/doctors/${w.doctor.id}`, { token: w.admin.token });
    assert.equal(byAdmin.json.doctor.licence_number, `LIC-doctor-${w.doctor.id}`);
    const notDoctor = await api(server, 'GET', `/doctors/${w.patient.id}`, { token: w.admin.token });
    assert.equal(notDoctor.status, 404);
  });

  await t.test('pagination walks every account once', async () => {
    const seen = [];
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const res = await api(server, 'GET', `/admin/users?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: w.admin.token });
      assert.equal(res.status, 200, res.text);
      seen.push(...res.json.items.map((u) => u.id));
      if (res.json.next_cursor === null) break;
      cursor = res.json.next_cursor;
    }
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.includes(w.patient2.id) && seen.includes(w.admin.id));
    const doctors = await api(server, 'GET', '/admin/users?role=doctor', { token: w.admin.token });
    assert.ok(doctors.json.items.every((u) => u.role === 'doctor'));
    for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'cursor=-1', 'role=king'])
      assert.equal((await api(server, 'GET', `/admin/users?${bad}`, { token: w.admin.token })).status, 400, bad);
  });

  await t.test('clinic staff read only their institution\'s patients', async () => {
    const as = (acct, method, p) => api(server, method, p, { token: acct.token });
    const instB = (await api(server, 'POST', '/institutions', {
      token: w.admin.token, body: { name: 'Hospital B', kind: 'hospital' },
    })).json.institution;
    const clinicB = { email: uniqueEmail('clinicB') };
    const made = await api(server, 'POST', '/admin/users', {
      token: w.admin.token,
      body: { email: clinicB.email, password: PASSWORD, display_name: 'B staff', role: 'clinic_staff', institution_id: instB.id },
    });
    assert.equal(made.status, 201, made.text);
    await enrolStaff(server, clinicB);
    const reg = await api(server, 'POST', '/auth/register', {
      body: { email: uniqueEmail('patient3'), password: PASSWORD, display_name: 'Unlinked' },
    });
    const unlinked = reg.json.user.id;
    const A = w.institution.id;
    // The matrix's last DELETE row (auditor, refused) left patient2 linked to A.
    assert.equal((await as(w.admin, 'DELETE', `/institutions/${A}/patients/${w.patient2.id}`)).status, 204);

    // Staff link their own institution's patient and then read them.
    assert.equal((await as(w.clinic, 'POST', `/institutions/${A}/patients/${w.patient.id}`)).status, 204);
    const read = await as(w.clinic, 'GET', `/patients/${w.patient.id}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.patient.display_name, 'The patient');
    // An admin links patient2 to B: B's staff read them, A's do not.
    assert.equal((await as(w.admin, 'POST', `/institutions/${instB.id}/patients/${w.patient2.id}`)).status, 204);
    assert.equal((await as(clinicB, 'GET', `/patients/${w.patient2.id}`)).status, 200);
    assert.equal((await as(clinicB, 'GET', `/patients/${w.patient.id}`)).status, 403);
    for (const id of [w.patient2.id, unlinked, w.doctor.id, 999999999]) {
      const res = await as(w.clinic, 'GET', `/patients/${id}`);
      assert.equal(res.status, 403, `clinic A reading ${id}: ${res.text}`);
      assert.equal(errorCode(res), 'forbidden');
    }

    // Nobody links to, or unlinks from, another institution.
    for (const [who, method, p] of [
      [clinicB, 'POST', `/institutions/${A}/patients/${unlinked}`],
      [clinicB, 'DELETE', `/institutions/${A}/patients/${w.patient.id}`],
      [w.patient, 'POST', `/institutions/${A}/patients/${w.patient.id}`],
      [w.doctor, 'POST', `/institutions/${A}/patients/${unlinked}`],
      [w.doctor, 'DELETE', `/institutions/${A}/patients/${w.patient.id}`],
    ]) {
      const res = await as(who, method, p);
      assert.equal(res.status, 403, `${who.email} ${method} ${p}: ${res.text}`);
    }
    assert.equal((await as(w.clinic, 'GET', `/patients/${unlinked}`)).status, 403);
    // Only patients can be linked; unknown institutions are refused.
    assert.equal((await as(w.clinic, 'POST', `/institutions/${A}/patients/${w.doctor.id}`)).status, 400);
    assert.equal((await as(w.admin, 'POST', `/institutions/999999/patients/${unlinked}`)).status, 400);

    // Unlinking takes the access away at once; a second unlink finds nothing.
    assert.equal((await as(w.clinic, 'DELETE', `/institutions/${A}/patients/${w.patient.id}`)).status, 204);
    assert.equal((await as(w.clinic, 'GET', `/patients/${w.patient.id}`)).status, 403);
    assert.equal((await as(w.clinic, 'DELETE', `/institutions/${A}/patients/${w.patient.id}`)).status, 404);
  });
});
