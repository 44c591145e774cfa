// account.mjs — helpers for the tests of the account pages (account.html):
// driving sign-in, TOTP set-up and registration in a Chromium page, and the
// same steps straight through the REST API (docs/api.md) for the set-up a
// test is not about. Needs a server started with { database: true }.

import assert from 'node:assert/strict';
import { Authenticator, waitFor, withTimeout } from './harness.mjs';

// ------------------------------------------------------------------ pages

export async function openAccount(page, server, hash = '') {
  await withTimeout(page.goto(`${server.url}/account.html${hash}`), 20000, 'goto account.html');
  await waitFor(page, () => !!window.consiliumAccount?.screen, null, { what: 'account page started' });
}

/** Waits until the account page shows screen @name (login, register, totp, home...). */
export async function waitScreen(page, name, timeout = 20000) {
  await waitFor(page, (n) => window.consiliumAccount?.screen === n && !document.getElementById(`${n}-screen`).hidden,
    name, { what: `screen ${name}`, timeout });
}

/** Waits for the error banner with @code (an API error code) and returns its text. */
export async function waitError(page, code) {
  await waitFor(page, (c) => window.consiliumAccount.error === c, code, { what: `error ${code}` });
  return (await page.textContent('#error-text')).trim();
}

/** Waits for the notice with i18n key @key and returns its text. */
export async function waitNotice(page, key, text = null) {
  // The same key can repeat (two accounts created in a row): @text, a
  // RegExp, tells this notice from the last one.
  await waitFor(page, ({ k, src }) => window.consiliumAccount.notice === k &&
    (!src || new RegExp(src).test(document.getElementById('notice')?.textContent ?? '')),
  { k: key, src: text?.source ?? null }, { what: `notice ${key}${text ? ` ${text}` : ''}` });
  return (await page.textContent('#notice')).trim();
}

/**
 * Signs in from the sign-in screen. With @auth (an Authenticator), answers
 * the TOTP prompt. Resolves once the page shows home or TOTP set-up, and
 * returns which.
 */
export async function signIn(page, email, password, auth = null) {
  await waitScreen(page, 'login');
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  // Still asking for a code from an earlier attempt.
  if (auth && await page.isVisible('#login-code')) await page.fill('#login-code', await auth.code());
  await page.click('#login-button');
  const outcome = (codeOk) => waitFor(page, (codeOk) => {
    const a = window.consiliumAccount;
    if (a.screen === 'home' || a.screen === 'totp') return a.screen;
    if (codeOk && a.notice === 'login.totp.prompt') return 'code';
    return a.error ? `error:${a.error}` : null;
  }, codeOk, { what: 'sign-in outcome' });
  let r = await outcome(true);
  if (r === 'code') {
    assert.ok(auth, 'the server asked for a TOTP code but the test has no authenticator');
    await page.fill('#login-code', await auth.code());
    await page.click('#login-button');
    r = await outcome(false);
  }
  assert.ok(r === 'home' || r === 'totp', `sign-in of ${email}: ${r}`);
  return r;
}

/**
 * On the TOTP set-up screen: reads the key the page shows, checks the QR
 * code and the otpauth URI carry it, confirms with a code computed here and
 * waits for home. Returns the account's Authenticator.
 */
export async function setUpTotp(page) {
  await waitScreen(page, 'totp');
  const shown = await waitFor(page, () => {
    const secret = document.getElementById('totp-secret');
    const svg = document.querySelector('#totp-qr svg');
    return secret.dataset.secret && svg ? {
      secret: secret.dataset.secret,
      grouped: secret.textContent,
      uri: document.getElementById('totp-uri').textContent,
      qrModules: Number(svg.dataset.size),
      qrPath: svg.querySelector('path').getAttribute('d').length,
    } : null;
  }, null, { what: 'TOTP secret and QR code' });
  assert.match(shown.secret, /^[A-Z2-7]{16,}$/);
  assert.equal(shown.grouped.replace(/ /g, ''), shown.secret);
  assert.match(shown.uri, /^otpauth:\/\/totp\//);
  assert.equal(new URL(shown.uri).searchParams.get('secret'), shown.secret);
  assert.ok(shown.qrModules >= 21 && (shown.qrModules - 17) % 4 === 0, `QR size ${shown.qrModules}`);
  assert.ok(shown.qrPath > 1000, 'QR code has modules');
  const auth = new Authenticator(shown.secret);
  await page.fill('#totp-code', await auth.code());
  await page.click('#totp-confirm');
  await waitScreen(page, 'home');
  await waitFor(page, () => window.consiliumAccount.user?.totp_enabled, null, { what: 'TOTP enabled' });
  return auth;
}

export async function signOut(page) {
  await page.click('#logout-button');
  await waitScreen(page, 'login');
}

// ------------------------------------------------------------------ REST

/** POST /auth/login, answering the TOTP prompt with @auth; returns the login answer. */
export async function apiLogin(server, email, password, auth = null) {
  let r = await server.api('POST', '/auth/login', { body: { email, password } });
  if (r.status === 401 && r.body?.error?.code === 'totp-required' && auth)
    r = await server.api('POST', '/auth/login', { body: { email, password, totp_code: await auth.code() } });
  assert.equal(r.status, 200, `login ${email}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Sets up TOTP on a fresh session @token; returns the Authenticator. */
export async function apiSetUpTotp(server, token) {
  const begin = await server.api('POST', '/me/totp', { token });
  assert.equal(begin.status, 200, `POST /me/totp: ${JSON.stringify(begin.body)}`);
  const auth = new Authenticator(begin.body.secret);
  const confirm = await server.api('POST', '/me/totp/confirm', { token, body: { code: await auth.code() } });
  assert.equal(confirm.status, 204, `POST /me/totp/confirm: ${JSON.stringify(confirm.body)}`);
  return auth;
}

/** Logs a staff account in for the first time and sets up TOTP: {token, auth, user}. */
export async function apiFirstStaffLogin(server, email, password) {
  const login = await apiLogin(server, email, password);
  assert.equal(login.totp_setup_required, true);
  const auth = await apiSetUpTotp(server, login.token);
  return { token: login.token, auth, user: login.user };
}

/** The bootstrap admin (consiliumd --create-admin), TOTP set up: {email, password, token, auth, user}. */
export async function apiBootstrapAdmin(server, { email = 'admin@example.org', password = 'admin-password-1', name = 'Admin' } = {}) {
  await server.createAdmin({ email, password, name });
  return { email, password, ...(await apiFirstStaffLogin(server, email, password)) };
}

/** POST /admin/users; returns the user object. */
export async function apiCreateUser(server, adminToken, user) {
  const r = await server.api('POST', '/admin/users', { token: adminToken, body: user });
  assert.equal(r.status, 201, `create ${user.email}: ${JSON.stringify(r.body)}`);
  return r.body.user;
}

/** A verified doctor: created, TOTP set up, profile filled, verified. {email, password, token, auth, user}. */
export async function apiVerifiedDoctor(server, adminToken, { email, password, name, licence, specialty = 'cardiology' }) {
  await apiCreateUser(server, adminToken, { email, password, display_name: name, role: 'doctor' });
  const d = await apiFirstStaffLogin(server, email, password);
  const prof = await server.api('PUT', `/doctors/${d.user.id}/profile`, { token: d.token, body: { licence_number: licence, specialty } });
  assert.equal(prof.status, 200, `doctor profile: ${JSON.stringify(prof.body)}`);
  const v = await server.api('POST', `/doctors/${d.user.id}/verify`, { token: adminToken, body: { verdict: 'verified' } });
  assert.equal(v.status, 200, `verify: ${JSON.stringify(v.body)}`);
  return { email, password, ...d };
}

/** POST /auth/register; returns the user object. */
export async function apiRegister(server, { email, password, name }) {
  const r = await server.api('POST', '/auth/register', { body: { email, password, display_name: name } });
  assert.equal(r.status, 201, `register ${email}: ${JSON.stringify(r.body)}`);
  return r.body.user;
}
