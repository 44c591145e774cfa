// test-auth.mjs — login lockout, TOTP required for staff (codes computed
// here per RFC 6238), session revocation (logout, password change), password
// reset through the debug log, and the --create-admin bootstrap.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  api, Cluster, createAdminCli, createHarness, enrolStaff, errorCode, login, nextCode, PASSWORD,
  sleep, startServer, totp, uniqueEmail,
} from './lib.mjs';

const LOCKOUT_S = 3;

test('authentication', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster, { db: { max_failed_logins: 3, lockout_seconds: LOCKOUT_S } });

  const admin = { email: uniqueEmail('admin') };
  await t.test('--create-admin bootstraps an admin who must set up TOTP', async () => {
    const cli = await createAdminCli(server, admin.email);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /created admin/);
    const again = await createAdminCli(server, admin.email);
    assert.equal(again.code, 2, 'a taken email is refused');
    const weak = await createAdminCli(server, uniqueEmail('weak'), 'short');
    assert.equal(weak.code, 2, 'a too short password is refused');

    const first = await login(server, admin);
    assert.equal(first.totp_setup_required, true);
    assert.equal(first.user.role, 'admin');
    // Until TOTP is set up, only the set-up calls work.
    const denied = await api(server, 'GET', '/admin/users', { token: admin.token });
    assert.equal(denied.status, 403);
    assert.equal(errorCode(denied), 'totp-setup-required');
    const me = await api(server, 'GET', '/me', { token: admin.token });
    assert.equal(me.json.totp_setup_required, true);

    const setup = await api(server, 'POST', '/me/totp', { token: admin.token });
    assert.equal(setup.status, 200);
    assert.match(setup.json.uri, /^otpauth:\/\/totp\/Consilium:.*secret=[A-Z2-7]+/);
    admin.totpSecret = setup.json.secret;
    const step = Math.floor(Date.now() / 30000);
    const wrong = await api(server, 'POST', '/me/totp/confirm', {
      token: admin.token, body: { code: totp(admin.totpSecret, step + 10) },
    });
    assert.equal(wrong.status, 401);
    const right = await api(server, 'POST', '/me/totp/confirm', { token: admin.token, body: { code: await nextCode(admin) } });
    assert.equal(right.status, 204, right.text);
    // The same session is now a full one.
    assert.equal((await api(server, 'GET', '/admin/users', { token: admin.token })).status, 200);
    // An enabled second factor cannot be replaced through the API.
    assert.equal((await api(server, 'POST', '/me/totp', { token: admin.token })).status, 409);
  });

  await t.test('staff logins need the TOTP code', async () => {
    const noCode = await api(server, 'POST', '/auth/login', { body: { email: admin.email, password: PASSWORD } });
    assert.equal(noCode.status, 401);
    assert.equal(errorCode(noCode), 'totp-required');
    const step = Math.floor(Date.now() / 30000);
    const badCode = await api(server, 'POST', '/auth/login', {
      body: { email: admin.email, password: PASSWORD, totp_code: totp(admin.totpSecret, step - 5) },
    });
    assert.equal(badCode.status, 401);
    assert.equal(errorCode(badCode), 'unauthorized');
    const j = await login(server, admin);
    assert.equal(j.totp_setup_required, false);
    assert.equal(j.user.totp_enabled, true);
  });

  await t.test('a new staff account is limited until it enrols', async () => {
    const doc = { email: uniqueEmail('doc') };
    const created = await api(server, 'POST', '/admin/users', {
      token: admin.token, body: { email: doc.email, password: PASSWORD, display_name: 'Dr Who', role: 'doctor' },
    });
    assert.equal(created.status, 201, created.text);
    await login(server, doc);
    assert.equal((await api(server, 'GET', '/institutions', { token: doc.token })).status, 403);
    await enrolStaff(server, doc);
    assert.equal((await api(server, 'GET', '/institutions', { token: doc.token })).status, 200);
  });

  const patient = { email: uniqueEmail('patient'), password: PASSWORD };
  await t.test('patients log in without TOTP', async () => {
    const reg = await api(server, 'POST', '/auth/register', {
      body: { email: patient.email, password: PASSWORD, display_name: 'Pat' },
    });
    assert.equal(reg.status, 201);
    const dup = await api(server, 'POST', '/auth/register', {
      body: { email: patient.email.toUpperCase(), password: PASSWORD, display_name: 'Pat' },
    });
    assert.equal(dup.status, 409);
    assert.equal(errorCode(dup), 'conflict');
    const j = await login(server, patient);
    assert.equal(j.totp_setup_required, false);
    assert.ok(Date.parse(j.expires_at) > Date.now());
  });

  await t.test('lockout after repeated failures, then recovery', async () => {
    const acct = { email: uniqueEmail('lock') };
    await api(server, 'POST', '/auth/register', { body: { email: acct.email, password: PASSWORD, display_name: 'L' } });
    for (let i = 0; i < 3; i++) {
      const r = await api(server, 'POST', '/auth/login', { body: { email: acct.email, password: 'wrong password!' } });
      assert.equal(r.status, i < 2 ? 401 : 429, `failure ${i + 1}: ${r.text}`);
    }
    const locked = await api(server, 'POST', '/auth/login', { body: { email: acct.email, password: PASSWORD } });
    assert.equal(locked.status, 429);
    assert.equal(errorCode(locked), 'locked');
    await sleep(LOCKOUT_S * 1000 + 500);
    const ok = await api(server, 'POST', '/auth/login', { body: { email: acct.email, password: PASSWORD } });
    assert.equal(ok.status, 200, ok.text);
  });

  await t.test('logout revokes the session', async () => {
    await login(server, patient);
    assert.equal((await api(server, 'GET', '/me', { token: patient.token })).status, 200);
    assert.equal((await api(server, 'POST', '/auth/logout', { token: patient.token })).status, 204);
    const after = await api(server, 'GET', '/me', { token: patient.token });
    assert.equal(after.status, 401);
    assert.equal(errorCode(after), 'unauthorized');
    assert.equal((await api(server, 'GET', '/me', { token: 'f'.repeat(64) })).status, 401);
  });

  await t.test('a password change revokes every session', async () => {
    await login(server, patient);
    const other = { ...patient };
    await login(server, other);
    const wrongOld = await api(server, 'POST', '/me/password', {
      token: patient.token, body: { old_password: 'not my password', new_password: 'a brand new password' },
    });
    assert.equal(wrongOld.status, 401);
    const r = await api(server, 'POST', '/me/password', {
      token: patient.token, body: { old_password: PASSWORD, new_password: 'a brand new password' },
    });
    assert.equal(r.status, 204, r.text);
    assert.equal((await api(server, 'GET', '/me', { token: patient.token })).status, 401);
    assert.equal((await api(server, 'GET', '/me', { token: other.token })).status, 401);
    patient.password = 'a brand new password';
    await login(server, patient);
  });

  await t.test('password reset with the token from the debug log', async () => {
    const accepted = await api(server, 'POST', '/auth/password-reset/request', { body: { email: patient.email } });
    assert.equal(accepted.status, 202);
    // Unknown emails get the same answer.
    const unknown = await api(server, 'POST', '/auth/password-reset/request', { body: { email: uniqueEmail('nobody') } });
    assert.equal(unknown.status, 202);
    let token;
    for (let i = 0; i < 50 && !token; i++) {
      token = /reset_token=([0-9a-f]{64})/.exec(server.tail(200))?.[1];
      if (!token) await sleep(100);
    }
    assert.ok(token, 'reset token in the debug log');
    const bad = await api(server, 'POST', '/auth/password-reset', { body: { token: '0'.repeat(64), password: 'another new password' } });
    assert.equal(bad.status, 401);
    const r = await api(server, 'POST', '/auth/password-reset', { body: { token, password: 'another new password' } });
    assert.equal(r.status, 204, r.text);
    assert.equal((await api(server, 'GET', '/me', { token: patient.token })).status, 401, 'sessions revoked');
    const reused = await api(server, 'POST', '/auth/password-reset', { body: { token, password: 'yet another password' } });
    assert.equal(reused.status, 401, 'single use');
    patient.password = 'another new password';
    await login(server, patient);
  });
});
