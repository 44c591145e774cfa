// The join page speaks Chinese to a zh-CN browser and English to an en-US
// one, the language switch re-translates in place, and screenshots of the
// call screen (desktop, and a phone-width one in Chinese) are saved to
// tests/e2e/artifacts/ for a human to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHarness, joinCall, openJoinScreen, waitFor, waitForRemote, ARTIFACTS } from './lib/harness.mjs';

const texts = (page) => page.evaluate(() => ({
  lang: document.documentElement.lang,
  heading: document.getElementById('join-heading').textContent,
  button: document.getElementById('join-button').textContent,
  who: document.getElementById('join-who').textContent,
  camera: document.querySelector('label span[data-i18n="join.camera"]').textContent,
}));

test('join page in Chinese and English; call screen screenshots', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();

  const token = (user, name, role) => server.mint({ room: 'i18n', user, name, role });

  const zh = await h.chromiumPage(browser, 'zh', { locale: 'zh-CN' });
  await openJoinScreen(zh, server, await token('doc', 'Dr Li', 'doctor'));
  const zt = await texts(zh);
  assert.equal(zt.lang, 'zh-CN');
  assert.equal(zt.heading, '加入会诊');
  assert.equal(zt.button, '加入会诊');
  assert.equal(zt.camera, '摄像头');
  assert.equal(zt.who, '您将以 Dr Li（医生）的身份加入。');

  const en = await h.chromiumPage(browser, 'en', { locale: 'en-US' });
  await openJoinScreen(en, server, await token('pat', 'Wang Fang', 'patient'));
  const et = await texts(en);
  assert.equal(et.lang, 'en');
  assert.equal(et.heading, 'Join the consultation');
  assert.equal(et.button, 'Join consultation');
  assert.equal(et.camera, 'Camera');
  assert.equal(et.who, 'You are joining as Wang Fang (patient).');

  // The switch re-translates without a reload, and back.
  await en.selectOption('#lang-select', 'zh-CN');
  assert.equal((await texts(en)).button, '加入会诊');
  await en.selectOption('#lang-select', 'en');
  assert.equal((await texts(en)).button, 'Join consultation');

  // Both join; wait for decoded video so the screenshots show real frames.
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await zh.click('#join-button');
  await en.click('#join-button');
  for (const page of [zh, en]) {
    await waitFor(page, () => window.consilium.joined && window.consilium.remoteParticipants.length === 1, null, { what: 'joined with one other' });
    const other = await page.evaluate(() => window.consilium.remoteParticipants[0].id);
    await waitForRemote(page, [other], (e) => e.video?.framesDecoded > 10, { timeout: 40000, what: 'video for the screenshot' });
  }
  // Let the quality indicators get two stats samples.
  await waitFor(en, () => [...document.querySelectorAll('#tiles .quality')].every((q) => q.dataset.quality !== 'unknown'),
    null, { timeout: 15000, what: 'quality indicators' });
  assert.equal((await en.textContent('#leave-button')).trim(), 'Leave');
  assert.equal((await zh.textContent('#leave-button')).trim(), '离开');
  assert.match(await zh.textContent('#tiles'), /患者/);

  const desktop = path.join(ARTIFACTS, 'call-screen.png');
  await en.screenshot({ path: desktop });
  await zh.setViewportSize({ width: 390, height: 844 });
  // Mute the camera so the phone shot also shows the muted indicator.
  await zh.click('#cam-button');
  await waitFor(en, () => window.consilium.remoteParticipants[0].videoMuted, null, { what: 'participant-updated (video muted)' });
  await waitFor(en, () => !document.querySelector('#tiles li:not(.local) .muted-video').hidden, null, { what: 'muted badge' });
  const phone = path.join(ARTIFACTS, 'call-screen-zh-phone.png');
  await zh.screenshot({ path: phone, fullPage: true });
  await en.screenshot({ path: path.join(ARTIFACTS, 'call-screen-remote-muted.png') });
  for (const f of [desktop, phone]) assert.ok(fs.statSync(f).size > 10000, `${f} written`);
});
