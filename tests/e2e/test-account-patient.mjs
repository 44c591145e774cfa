// A patient registers on the account page, signs in, sees their profile,
// changes the password (which signs them out everywhere), cannot sign in
// with the old one, signs in with the new one and signs out; the signed-out
// session token no longer works. Then "forgot password": the reset code
// (written to the server's debug log, there being no mail yet) sets a third
// password. Against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, sleep, waitFor } from './lib/harness.mjs';
import { openAccount, waitScreen, waitError, waitNotice, signIn, signOut } from './lib/account.mjs';

/** The reset code consiliumd logs at debug level (no mail server yet). */
async function resetTokenFromLog(server) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const m = /password reset token issued\b.*\breset_token=([0-9a-f]{64})/.exec(server.tail(200));
    if (m) return m[1];
    if (Date.now() > deadline) throw new Error(`no reset token in the server log:\n${server.tail(20)}`);
    await sleep(100);
  }
}

test('patient: register, sign in, profile, change password, sign in again', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  // cs-signaling debug: where the password-reset code is written (docs/api.md).
  const server = await h.startServer({ database: true, debugDomains: 'cs-signaling' });
  const browser = await h.launchChromium();
  const page = await h.chromiumPage(browser, 'patient');

  const email = 'wang.fang@example.org';
  const name = "Wang Fang O'Brien"; // a quote travels verbatim
  const first = 'first-password-1';
  const second = 'second-password-2';
  const third = 'third-password-3';

  // The call page links here.
  await page.goto(`${server.url}/`);
  await page.click('#signin-link');
  await waitScreen(page, 'login');

  // Registration, with a mismatched confirmation caught first.
  await page.click('a[href="#register"]');
  await waitScreen(page, 'register');
  await page.fill('#register-name', name);
  await page.fill('#register-email', email);
  await page.fill('#register-password', first);
  await page.fill('#register-confirm', 'something-else-1');
  await page.click('#register-button');
  await waitFor(page, () => window.consiliumAccount.error === 'acct.password.mismatch', null, { what: 'mismatch error' });
  await page.fill('#register-confirm', first);
  await page.click('#register-button');
  await waitScreen(page, 'login');
  assert.match(await waitNotice(page, 'register.done'), /account is ready/);
  assert.equal(await page.inputValue('#login-email'), email);

  // Registering the same email again is refused with a readable message.
  await page.click('a[href="#register"]');
  await waitScreen(page, 'register');
  await page.fill('#register-name', 'Someone Else');
  await page.fill('#register-email', email.toUpperCase());
  await page.fill('#register-password', first);
  await page.fill('#register-confirm', first);
  await page.click('#register-button');
  assert.match(await waitError(page, 'conflict'), /already exists/);
  await page.click('a[href="#login"]');

  // Sign in: patients have no TOTP unless they ask for it.
  assert.equal(await signIn(page, email, first), 'home');
  const profile = await page.evaluate(() => ({
    name: document.getElementById('profile-name').textContent,
    email: document.getElementById('profile-email').textContent,
    role: document.getElementById('profile-role').textContent,
    totp: document.getElementById('profile-totp').textContent,
    whoami: document.getElementById('whoami').textContent,
    joinCard: !document.getElementById('join-card').hidden,
    doctorCard: !document.getElementById('doctor-card').hidden,
    adminPanel: !document.getElementById('admin-panel').hidden,
    totpOffer: !document.getElementById('totp-enable').hidden,
  }));
  assert.deepEqual(profile, {
    name, email, role: 'patient', totp: 'Off', whoami: `${name} · patient`,
    joinCard: true, doctorCard: false, adminPanel: false, totpOffer: true,
  });
  const user = await page.evaluate(() => window.consiliumAccount.user);
  assert.equal(user.role, 'patient');
  const token1 = await page.evaluate(() => sessionStorage.getItem('consilium.session'));
  assert.equal((await server.api('GET', '/me', { token: token1 })).status, 200);

  // A reload keeps the session (per tab).
  await page.reload();
  await waitScreen(page, 'home');

  // Wrong current password: refused, still signed in.
  await page.fill('#password-old', 'not-my-password');
  await page.fill('#password-new', second);
  await page.fill('#password-confirm', second);
  await page.click('#password-button');
  assert.match(await waitError(page, 'unauthorized'), /current password is not right/);
  assert.equal(await page.evaluate(() => window.consiliumAccount.screen), 'home');

  // The real change signs out everywhere.
  await page.fill('#password-old', first);
  await page.fill('#password-new', second);
  await page.fill('#password-confirm', second);
  await page.click('#password-button');
  await waitScreen(page, 'login');
  await waitNotice(page, 'password.changed');
  assert.equal((await server.api('GET', '/me', { token: token1 })).status, 401, 'old session revoked');

  // The old password no longer works; the new one does.
  await page.fill('#login-email', email);
  await page.fill('#login-password', first);
  await page.click('#login-button');
  assert.match(await waitError(page, 'unauthorized'), /Wrong email, password or code/);
  assert.equal(await signIn(page, email, second), 'home');
  const token2 = await page.evaluate(() => sessionStorage.getItem('consilium.session'));
  assert.notEqual(token2, token1);

  await signOut(page);
  await waitNotice(page, 'acct.signed-out');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('consilium.session')), null);
  assert.equal((await server.api('GET', '/me', { token: token2 })).status, 401, 'signed-out session revoked');

  // Forgotten password: request a code, read it from the log, set a new one.
  await page.click('a[href="#reset"]');
  await waitScreen(page, 'reset');
  await page.fill('#reset-email', email);
  await page.click('#reset-request-form button');
  await waitNotice(page, 'reset.requested');
  const resetToken = await resetTokenFromLog(server);
  await page.fill('#reset-token', 'f'.repeat(64));
  await page.fill('#reset-password', third);
  await page.fill('#reset-confirm', third);
  await page.click('#reset-form button');
  assert.match(await waitError(page, 'unauthorized'), /not valid or has expired/);
  await page.fill('#reset-token', resetToken);
  await page.click('#reset-form button');
  await waitScreen(page, 'login');
  await waitNotice(page, 'reset.done');
  assert.equal(await signIn(page, email, third), 'home');
});
