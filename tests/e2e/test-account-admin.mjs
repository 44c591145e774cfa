// The bootstrap admin (consiliumd --create-admin) signs in and must set up
// TOTP first (QR code and key shown by the page, code computed here per RFC
// 6238); then creates a clinic institution, a doctor and a clinic staff
// member. The doctor signs in, sets up TOTP, fills the professional profile;
// the admin verifies it, the doctor sees "verified". The admin's second
// sign-in needs a TOTP code. Against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, waitFor } from './lib/harness.mjs';
import { openAccount, waitScreen, waitError, waitNotice, signIn, signOut, setUpTotp } from './lib/account.mjs';

const rowOf = (page, email) => page.evaluate((e) => {
  const tr = [...document.querySelectorAll('#users-table tbody tr')].find((r) => r.children[2].textContent === e);
  return tr ? {
    id: Number(tr.dataset.user), role: tr.dataset.role, text: [...tr.children].map((c) => c.textContent),
    status: tr.querySelector('.status')?.dataset.status ?? null,
  } : null;
}, email);

test('admin: TOTP set-up, institutions, staff accounts, doctor verification', { timeout: 240000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true });
  const admin = { email: 'admin@example.org', password: 'admin-password-1' };
  await server.createAdmin({ ...admin, name: 'Ada Admin' });
  const browser = await h.launchChromium();
  const ap = await h.chromiumPage(browser, 'admin');

  // First sign-in: a restricted session that must set up TOTP.
  await openAccount(ap, server);
  assert.equal(await signIn(ap, admin.email, admin.password), 'totp');
  assert.equal(await ap.isVisible('#totp-required'), true);
  assert.equal(await ap.isVisible('#totp-cancel'), false);
  const adminAuth = await setUpTotp(ap);
  await waitNotice(ap, 'totp.done');
  await waitFor(ap, () => !document.getElementById('admin-panel').hidden, null, { what: 'admin panel' });
  assert.equal(await ap.isVisible('#join-card'), false, 'admins do not join calls');
  assert.equal(await ap.isVisible('#audit-panel'), false);

  // A clinic.
  await ap.fill('#inst-name', 'Xuhui Community Clinic');
  await ap.selectOption('#inst-kind', 'primary_clinic');
  await ap.click('#inst-button');
  await waitNotice(ap, 'admin.inst.created');
  const inst = await waitFor(ap, () => {
    const li = document.querySelector('#inst-list li[data-institution]');
    return li ? { id: li.dataset.institution, text: li.textContent } : null;
  }, null, { what: 'institution listed' });
  assert.match(inst.text, /Xuhui Community Clinic \(primary clinic\)/);

  // Clinic staff need an institution: the form says so before the server does.
  await ap.fill('#new-user-name', 'Zhou Min');
  await ap.fill('#new-user-email', 'zhou.min@example.org');
  await ap.fill('#new-user-password', 'staff-password-1');
  await ap.selectOption('#new-user-role', 'clinic_staff');
  await ap.click('#create-user-button');
  assert.equal(await ap.evaluate(() => document.getElementById('new-user-institution').matches(':invalid')), true);
  await ap.selectOption('#new-user-institution', inst.id);
  await ap.click('#create-user-button');
  await waitNotice(ap, 'admin.create.done');
  await waitFor(ap, () => document.querySelector('#users-table tr[data-role="clinic_staff"]'), null, { what: 'staff listed' });
  const staffRow = await rowOf(ap, 'zhou.min@example.org');
  assert.equal(staffRow.role, 'clinic_staff');
  assert.equal(staffRow.text[4], 'Xuhui Community Clinic');

  // The doctor.
  const doctor = { email: 'li.wei@example.org', password: 'doctor-password-1', name: 'Li Wei' };
  await ap.fill('#new-user-name', doctor.name);
  await ap.fill('#new-user-email', doctor.email);
  await ap.fill('#new-user-password', doctor.password);
  await ap.selectOption('#new-user-role', 'doctor');
  await ap.click('#create-user-button');
  assert.match(await waitNotice(ap, 'admin.create.done', /Li Wei, doctor/), /Li Wei, doctor/);
  let drow = await waitFor(ap, (e) => [...document.querySelectorAll('#users-table tbody tr')]
    .some((r) => r.children[2].textContent === e), doctor.email, { what: 'doctor listed' }).then(() => rowOf(ap, doctor.email));
  assert.equal(drow.status, 'none', 'no profile yet');

  // The same email again: a readable conflict.
  await ap.fill('#new-user-name', 'Dup');
  await ap.fill('#new-user-email', doctor.email);
  await ap.fill('#new-user-password', doctor.password);
  await ap.click('#create-user-button');
  assert.match(await waitError(ap, 'conflict'), /already exists/);

  // The doctor, in another browser context: TOTP set-up, then the profile.
  const dp = await h.chromiumPage(browser, 'doctor');
  await openAccount(dp, server);
  assert.equal(await signIn(dp, doctor.email, doctor.password), 'totp');
  await setUpTotp(dp);
  await waitFor(dp, () => !document.getElementById('doctor-card').hidden, null, { what: 'doctor card' });
  assert.equal(await dp.textContent('#doctor-status'), 'no profile yet');
  assert.equal(await dp.isVisible('#join-unverified'), true);
  await dp.fill('#doctor-licence', '110-2020-0042');
  await dp.fill('#doctor-specialty', 'cardiology');
  await dp.click('#doctor-save');
  await waitNotice(dp, 'doctor.saved');
  assert.equal(await dp.textContent('#doctor-status'), 'waiting for verification');

  // The admin sees it pending (doctors only) and verifies.
  await ap.selectOption('#users-role-filter', 'doctor');
  drow = await waitFor(ap, (e) => {
    const rows = [...document.querySelectorAll('#users-table tbody tr')];
    return rows.length && rows.every((r) => r.dataset.role === 'doctor') &&
      rows.find((r) => r.children[2].textContent === e)?.querySelector('.status')?.dataset.status === 'pending';
  }, doctor.email, { what: 'doctor pending in the filtered list' }).then(() => rowOf(ap, doctor.email));
  assert.match(drow.text[6], /Licence 110-2020-0042 · cardiology/);
  await ap.click(`#users-table tr[data-user="${drow.id}"] button[data-verdict="verified"]`);
  assert.match(await waitNotice(ap, 'admin.verify.done.verified'), /Li Wei is verified/);
  assert.equal((await rowOf(ap, doctor.email)).status, 'verified');

  // The doctor sees the verdict after a reload, and may now join calls.
  await dp.reload();
  await waitScreen(dp, 'home');
  assert.equal(await dp.textContent('#doctor-status'), 'verified');
  assert.equal(await dp.isVisible('#join-unverified'), false);

  // The admin's next sign-in asks for a code; a wrong one is refused.
  await signOut(ap);
  await ap.fill('#login-email', admin.email);
  await ap.fill('#login-password', admin.password);
  await ap.click('#login-button');
  await waitFor(ap, () => !document.getElementById('login-totp').hidden, null, { what: 'TOTP prompt' });
  await ap.fill('#login-code', '000000'); // wrong but for a one-in-a-million chance
  await ap.click('#login-button');
  assert.match(await waitError(ap, 'unauthorized'), /Wrong email, password or code/);
  assert.equal(await signIn(ap, admin.email, admin.password, adminAuth), 'home');
  await waitFor(ap, () => document.querySelectorAll('#users-table tbody tr').length >= 3, null, { what: 'users listed again' });
});
