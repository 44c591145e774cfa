// The account pages speak Chinese to a zh-CN browser: sign-in, TOTP set-up,
// the admin and auditor panels, the patient's home at phone width, API
// errors; the language switch re-translates in place. Screenshots go to
// tests/e2e/artifacts/account-*.png for a human to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHarness, waitFor, ARTIFACTS } from './lib/harness.mjs';
import {
  openAccount, waitScreen, waitError, signIn, setUpTotp, apiBootstrapAdmin, apiCreateUser, apiRegister,
} from './lib/account.mjs';

const text = (page, sel) => page.evaluate((s) => document.querySelector(s).textContent.trim(), sel);

async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `account-${name}.png`);
  // Let fonts and the QR code settle.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 10000, `${file} written`);
}

test('account pages in Chinese and English; screenshots', { timeout: 240000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true });
  const admin = await apiBootstrapAdmin(server, { name: '管理员 陈' });
  await apiCreateUser(server, admin.token, { email: 'audit@example.org', password: 'auditor-password-1', display_name: '钱审计', role: 'auditor' });
  const inst = await server.api('POST', '/institutions', { token: admin.token, body: { name: '瑞金医院', kind: 'hospital' } });
  assert.equal(inst.status, 201);
  await apiCreateUser(server, admin.token, {
    email: 'staff@example.org', password: 'staff-password-1', display_name: '周敏', role: 'clinic_staff',
    institution_id: inst.body.institution.id,
  });
  await apiCreateUser(server, admin.token, { email: 'doc@example.org', password: 'doctor-password-1', display_name: '李伟', role: 'doctor' });
  await apiRegister(server, { email: 'wang.fang@example.org', password: 'patient-password-1', name: '王芳' });
  const browser = await h.launchChromium();

  // The call page's link, and the sign-in screen.
  const zh = await h.chromiumPage(browser, 'zh-auditor', { locale: 'zh-CN' });
  await zh.goto(`${server.url}/`);
  assert.equal(await text(zh, '#signin-link'), '已有账户？登录');
  await openAccount(zh, server);
  await waitScreen(zh, 'login');
  assert.equal(await zh.evaluate(() => document.documentElement.lang), 'zh-CN');
  assert.equal(await text(zh, '#login-heading'), '登录');
  assert.equal(await text(zh, '#login-button'), '登录');
  assert.equal(await text(zh, 'label span[data-i18n="field.password"]'), '密码');
  assert.equal(await text(zh, 'a[href="#register"]'), '注册患者账户');
  assert.match(await zh.title(), /登录 · Consilium 远程会诊/);

  // An API error, translated by its code.
  await zh.fill('#login-email', 'audit@example.org');
  await zh.fill('#login-password', 'not-the-password');
  await zh.click('#login-button');
  assert.equal(await waitError(zh, 'unauthorized'), '邮箱、密码或验证码错误。');
  await shot(zh, 'login-zh');

  // TOTP set-up with its QR code, then the auditor's panel.
  assert.equal(await signIn(zh, 'audit@example.org', 'auditor-password-1'), 'totp');
  assert.equal(await text(zh, '#totp-heading'), '设置两步登录');
  assert.equal(await text(zh, '#totp-confirm'), '开启');
  await waitFor(zh, () => !!document.querySelector('#totp-qr svg'), null, { what: 'QR code' });
  await shot(zh, 'totp-zh');
  await setUpTotp(zh);
  await waitFor(zh, () => document.querySelectorAll('#audit-table tbody tr').length > 3, null, { what: 'audit rows' });
  assert.equal(await text(zh, '#home-heading'), '我的账户');
  assert.equal(await text(zh, '#audit-heading'), '审计记录');
  assert.equal(await text(zh, '#profile-role'), '审计员');
  assert.equal(await text(zh, '#profile-totp'), '已开启');
  assert.equal(await text(zh, '#audit-table thead th:nth-child(2)'), '时间（UTC）');
  assert.match(await text(zh, '#audit-table tbody'), /成功/);
  assert.match(await text(zh, '#audit-table tbody'), /失败/); // the wrong password above
  assert.match(await text(zh, '#audit-summary'), /^本页 \d+ 条记录/);
  await zh.click('#audit-verify');
  await waitFor(zh, () => document.getElementById('verify-result').dataset.ok === 'true', null, { what: 'chain ok' });
  assert.match(await text(zh, '#verify-text'), /^记录链完整：已校验 \d+ 条记录。$/);
  await shot(zh, 'audit-zh');

  // The admin's panel.
  const za = await h.chromiumPage(browser, 'zh-admin', { locale: 'zh-CN' });
  await openAccount(za, server);
  assert.equal(await signIn(za, admin.email, admin.password, admin.auth), 'home');
  await waitFor(za, () => document.querySelectorAll('#users-table tbody tr').length >= 5, null, { what: 'accounts listed' });
  assert.equal(await text(za, '#create-user-heading'), '创建工作人员账户');
  assert.deepEqual(await za.evaluate(() => [...document.getElementById('new-user-role').options].map((o) => o.text)),
    ['医生', '专家', '诊所工作人员', '管理员', '审计员']);
  assert.match(await text(za, '#inst-list'), /瑞金医院（医院）/);
  const staffRow = await za.evaluate(() => [...document.querySelector('#users-table tr[data-role="clinic_staff"]').children].map((c) => c.textContent));
  assert.equal(staffRow[3], '诊所工作人员');
  assert.equal(staffRow[4], '瑞金医院');
  assert.equal(await text(za, '#users-table tr[data-role="doctor"] .status'), '尚未填写');
  await shot(za, 'admin-zh');

  // The patient at phone width.
  const zp = await h.chromiumPage(browser, 'zh-patient', { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  await openAccount(zp, server);
  await shot(zp, 'login-zh-phone');
  assert.equal(await signIn(zp, 'wang.fang@example.org', 'patient-password-1'), 'home');
  assert.equal(await text(zp, '#joincard-heading'), '加入会诊');
  assert.equal(await text(zp, '#profile-role'), '患者');
  assert.equal(await text(zp, '#totp-enable'), '开启两步登录');
  assert.equal(await text(zp, '#password-heading'), '修改密码');
  const overflow = await zp.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow} px)`);
  await shot(zp, 'home-zh-phone');

  // An English browser, and the switch both ways without a reload.
  const en = await h.chromiumPage(browser, 'en', { locale: 'en-US' });
  await openAccount(en, server, '#register');
  await waitScreen(en, 'register');
  assert.equal(await text(en, '#register-heading'), 'Create a patient account');
  await en.selectOption('#lang-select', 'zh-CN');
  assert.equal(await text(en, '#register-heading'), '注册患者账户');
  assert.equal(await text(en, '#register-button'), '创建账户');
  await en.selectOption('#lang-select', 'en');
  assert.equal(await text(en, '#register-button'), 'Create account');
  await shot(en, 'register-en');
});
