// A verified doctor and a patient each sign in on the account page, ask for
// a room token for the same consultation through the UI (POST
// /api/v1/room-tokens) and join the call with it: both decode each other's
// video, and each sees the other's real name, role and account id. An
// unverified doctor is told why they cannot join. Against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, waitFor, waitForRemote, assertVideoFlows } from './lib/harness.mjs';
import {
  openAccount, signIn, waitError, apiBootstrapAdmin, apiVerifiedDoctor, apiRegister, apiCreateUser, apiFirstStaffLogin,
} from './lib/account.mjs';

/** From the account home screen: asks for a token for @room and waits for the call page's join screen. */
async function joinFromAccount(page, room) {
  await page.fill('#join-room-name', room);
  await page.click('#join-room-button');
  await page.waitForURL((u) => u.pathname === '/', { timeout: 20000 });
  await waitFor(page, () => {
    const b = document.getElementById('join-button');
    return !!b && !b.disabled && !b.closest('[hidden]');
  }, null, { what: 'join button enabled' });
  // The token was handed over out of the address bar.
  assert.equal(new URL(page.url()).search, '');
  const who = await page.textContent('#join-who');
  await page.click('#join-button');
  await waitFor(page, () => window.consilium.joined && window.consilium.participantId, null, { what: 'joined' });
  return who;
}

test('doctor and patient join a call with room tokens from their sessions', { timeout: 240000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true });
  const admin = await apiBootstrapAdmin(server);
  const doctor = await apiVerifiedDoctor(server, admin.token, {
    email: 'li.wei@example.org', password: 'doctor-password-1', name: 'Li Wei', licence: '110-2020-0042',
  });
  const patient = { email: 'wang.fang@example.org', password: 'patient-password-1', name: 'Wang Fang' };
  const patientUser = await apiRegister(server, patient);
  // A doctor nobody has verified yet.
  await apiCreateUser(server, admin.token, { email: 'new.doc@example.org', password: 'doctor-password-2', display_name: 'New Doc', role: 'doctor' });
  const newDoc = await apiFirstStaffLogin(server, 'new.doc@example.org', 'doctor-password-2');

  const browser = await h.launchChromium();
  const dp = await h.chromiumPage(browser, 'doctor');
  const pp = await h.chromiumPage(browser, 'patient');
  const up = await h.chromiumPage(browser, 'unverified');

  // The unverified doctor sees the reason, and the server refuses the token.
  await openAccount(up, server);
  assert.equal(await signIn(up, 'new.doc@example.org', 'doctor-password-2', newDoc.auth), 'home');
  assert.equal(await up.isVisible('#join-unverified'), true);
  await up.fill('#join-room-name', 'consult-42');
  await up.click('#join-room-button');
  assert.match(await waitError(up, 'forbidden'), /only patients, clinic staff and verified doctors/);

  // A room name outside [A-Za-z0-9_.-] is caught by the form.
  await openAccount(dp, server);
  assert.equal(await signIn(dp, doctor.email, doctor.password, doctor.auth), 'home');
  await dp.fill('#join-room-name', 'consult 42!');
  await dp.click('#join-room-button');
  assert.equal(await dp.evaluate(() => document.getElementById('join-room-name').matches(':invalid')), true);
  assert.equal(new URL(dp.url()).pathname, '/account.html');

  assert.equal(await joinFromAccount(dp, 'consult-42'), 'You are joining as Li Wei (doctor).');

  await openAccount(pp, server);
  assert.equal(await signIn(pp, patient.email, patient.password), 'home');
  assert.equal(await joinFromAccount(pp, 'consult-42'), 'You are joining as Wang Fang (patient).');

  const others = {};
  for (const [page, want] of [[dp, { name: 'Wang Fang', role: 'patient', user: String(patientUser.id) }],
    [pp, { name: 'Li Wei', role: 'doctor', user: String(doctor.user.id) }]]) {
    const remote = await waitFor(page, () => {
      const r = window.consilium.remoteParticipants;
      return r.length === 1 ? { id: r[0].id, name: r[0].name, role: r[0].role, user: r[0].user } : null;
    }, null, { what: 'one remote participant' });
    assert.deepEqual({ name: remote.name, role: remote.role, user: remote.user }, want);
    assert.equal(await page.evaluate(() => window.consilium.room), 'consult-42');
    others[page.label] = remote.id;
  }
  for (const page of [dp, pp]) {
    const id = others[page.label];
    await waitForRemote(page, [id], (e) => e.video?.framesDecoded > 10, { timeout: 40000, what: 'video decoded' });
    await assertVideoFlows(page, [id]);
  }
});
