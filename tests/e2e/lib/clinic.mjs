// clinic.mjs — helpers for the tests of the clinical pages (clinic.html,
// visit.html): verified staff made through the REST API, pages signed in
// with a session token that collect console errors, and screenshots.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS } from './harness.mjs';
import { apiCreateUser, apiFirstStaffLogin } from './account.mjs';

/** A verified doctor or specialist (TOTP enrolled, signed in), optionally in a department. */
export async function apiStaff(server, admin, { email, name, role = 'doctor', institution, specialty, department }) {
  const password = `${email.split('@')[0]}-password-1`;
  await apiCreateUser(server, admin.token, { email, password, display_name: name, role, institution_id: institution });
  const s = await apiFirstStaffLogin(server, email, password);
  let r = await server.api('PUT', `/doctors/${s.user.id}/profile`, { token: s.token, body: { licence_number: `L-${email}`, specialty } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await server.api('POST', `/doctors/${s.user.id}/verify`, { token: admin.token, body: { verdict: 'verified' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  if (department) {
    r = await server.api('PUT', `/doctors/${s.user.id}/department`, { token: admin.token, body: { department_id: department } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  return s;
}

/** A page whose tab is signed in with @token; console errors collected in page.errors. */
export async function signedPage(h, browser, label, token, opts = {}) {
  const page = await h.chromiumPage(browser, label, opts);
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  if (token) await page.addInitScript((t) => sessionStorage.setItem('consilium.session', t), token);
  return page;
}

/** With SHOTS=1 in the environment, a screenshot into the artifacts folder. */
export async function shot(page, name, fullPage = true) {
  if (!process.env.SHOTS) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

export const tid = (id) => `[data-testid="${id}"]`;
