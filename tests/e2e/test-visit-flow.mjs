// A whole visit through the web client (clinic.html, visit.html): a patient
// books, waits in the lobby, the doctor admits from the queue, both see and
// hear each other, chat and a file go through, the doctor invites a
// specialist of another institution who joins, the doctor ends the visit
// and the patient sees the summary. Fails on any console error.
//   meson test -C build test-visit-flow
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  createHarness, waitFor, waitForRemote, assertVideoFlows, assertAudioFlows, wsClient,
} from './lib/harness.mjs';
import { apiStaff, signedPage, shot as shotTo, tid } from './lib/clinic.mjs';
import { apiBootstrapAdmin, apiRegister, apiLogin } from './lib/account.mjs';




const shot = (page, name) => shotTo(page, `visit-${name}`, !name.startsWith('call'));


test('a visit through the web client', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true, extraConfig: '[clinic]\nroom_open_minutes=120\n' });
  const admin = await apiBootstrapAdmin(server);
  const inst = async (name, kind) => (await server.api('POST', '/institutions', { token: admin.token, body: { name, kind } })).body.institution.id;
  const hospital = await inst('City Hospital', 'hospital');
  const university = await inst('University Hospital', 'hospital');
  const dep = await server.api('POST', '/departments', { token: admin.token, body: { institution_id: hospital, name: 'Cardiology' } });
  assert.equal(dep.status, 201, JSON.stringify(dep.body));
  const doctor = await apiStaff(server, admin, { email: 'li@example.org', name: 'Dr Li Wei', institution: hospital, specialty: 'cardiology', department: dep.body.id });
  const spec = await apiStaff(server, admin, { email: 'chen@example.org', name: 'Prof Chen', role: 'specialist', institution: university, specialty: 'electrophysiology' });
  await apiRegister(server, { email: 'wang@example.org', password: 'patient-password-1', name: 'Wang Fang' });
  const patient = await apiLogin(server, 'wang@example.org', 'patient-password-1');

  // An extra session starting in a few minutes: its slots are bookable and the room is open.
  const start = new Date(Math.ceil((Date.now() + 5 * 60000) / 60000) * 60000);
  let r = await server.api('PUT', `/doctors/${doctor.user.id}/roster`, { token: doctor.token, body: { timezone: 'UTC', templates: [] } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await server.api('POST', `/doctors/${doctor.user.id}/roster/exceptions`, { token: doctor.token, body: {
    kind: 'extra', starts_at: start.toISOString(), ends_at: new Date(+start + 3600000).toISOString(), slot_minutes: 15, visit_type: 'video' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));

  const browser = await h.launchChromium();
  const pp = await signedPage(h, browser, 'patient', patient.token);
  const dp = await signedPage(h, browser, 'doctor', doctor.token);
  const sp = await signedPage(h, browser, 'specialist', spec.token, { locale: 'zh-CN' });

  // The patient finds the doctor and books the first slot.
  await pp.goto(`${server.url}/clinic.html#find`);
  await waitFor(pp, () => window.consiliumClinic?.tab === 'find' && document.querySelector('[data-testid="doctor"]'), null, { what: 'doctors listed' });
  await pp.click(`${tid('doctor')}[data-doctor="${doctor.user.id}"] ${tid('doctor-times')}`);
  await pp.click(`${tid('slot')} >> nth=0`);
  await pp.fill('#book-reason', 'Chest pain when climbing stairs');
  await shot(pp, 'book');
  await pp.click(tid('book-button'));
  await waitFor(pp, () => window.consiliumClinic.notice === 'book.done', null, { what: 'booked' });
  await pp.goto(`${server.url}/clinic.html#visits`);
  await waitFor(pp, () => document.querySelector('[data-testid="visit"] [data-testid="visit-join"]'), null, { what: 'visit listed' });
  const appt = Number(await pp.getAttribute(tid('visit'), 'data-appointment'));
  await shot(pp, 'visits');

  // The waiting room: checks, then the lobby.
  await pp.click(tid('visit-join'));
  await waitFor(pp, () => !document.getElementById('join-button').disabled, null, { what: 'devices ready' });
  await waitFor(pp, () => window.consilium.net?.verdict, null, { what: 'network check', timeout: 30000 });
  const net = await pp.evaluate(() => window.consilium.net);
  console.log('network check:', JSON.stringify(net));
  await pp.click(tid('speaker-test'));
  await pp.click(tid('speaker-yes'));
  await waitFor(pp, () => window.consilium.micPeak > 0.05, null, { what: 'mic level moves' });
  await pp.click(tid('join-button'));
  await waitFor(pp, () => window.consilium.phase === 'waiting' && !document.querySelector('[data-testid="waiting-indicator"]').hidden, null, { what: 'in the lobby' });
  await shot(pp, 'lobby');

  // A second device of the patient tries to go straight in with an offer:
  // it is held in the waiting room, and the visit is still waiting.
  const tok = await server.api('POST', `/appointments/${appt}/room-token`, { token: patient.token });
  assert.equal(tok.status, 201, JSON.stringify(tok.body));
  assert.equal(tok.body.lobby, true);
  const sneak = await wsClient(server, h);
  sneak.send({ type: 'join', id: 1, token: tok.body.token });
  await sneak.next((m) => m.type === 'waiting', 'waiting');
  sneak.send({ type: 'offer', id: 2, sdp: 'v=0\r\n' });
  const held = await sneak.next((m) => m.type === 'error' && m.id === 2, 'offer refused');
  assert.equal(held.code, 'not-admitted');
  const still = await server.api('GET', `/appointments/${appt}`, { token: patient.token });
  assert.equal(still.body.status, 'waiting');
  sneak.send({ type: 'leave', id: 3 });

  // The doctor admits from the queue and lands in the call as host.
  await dp.goto(`${server.url}/clinic.html#queue`);
  await waitFor(dp, (id) => document.querySelector(`[data-testid="queue-admit"][data-appointment="${id}"]`), appt, { what: 'patient in queue' });
  await shot(dp, 'queue');
  await dp.click(`${tid('queue-admit')}[data-appointment="${appt}"]`);
  await waitFor(dp, () => window.consilium?.joined, null, { what: 'doctor in the call' });
  await waitFor(pp, () => window.consilium.phase === 'call' && window.consilium.joined, null, { what: 'patient admitted' });
  const pid = await pp.evaluate(() => window.consilium.participantId);
  const did = await dp.evaluate(() => window.consilium.participantId);
  await waitForRemote(pp, [did], (e) => e.video?.framesDecoded > 0 && e.audio?.packetsReceived > 0, { what: 'patient gets doctor' });
  await waitForRemote(dp, [pid], (e) => e.video?.framesDecoded > 0 && e.audio?.packetsReceived > 0, { what: 'doctor gets patient' });
  await assertVideoFlows(pp, [did]);
  await assertAudioFlows(dp, [pid]);

  // Chat both ways.
  await pp.fill(tid('chat-input'), 'Hello doctor');
  await pp.click(tid('chat-send'));
  await waitFor(dp, () => window.consilium.chat.some((m) => m.text === 'Hello doctor'), null, { what: 'chat at doctor' });
  await dp.fill(tid('chat-input'), '你好，请坐');
  await dp.press(tid('chat-input'), 'Enter');
  await waitFor(pp, () => window.consilium.chat.some((m) => m.text === '你好，请坐'), null, { what: 'chat at patient' });

  // A file from the doctor, downloaded by the patient.
  await dp.setInputFiles(tid('file-input'), { name: 'ecg-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('ST elevation: none\n') });
  await waitFor(pp, () => window.consilium.files.some((f) => f.filename === 'ecg-notes.txt'), null, { what: 'file at patient' });
  const [download] = await Promise.all([pp.waitForEvent('download'), pp.click(`${tid('file-list')} ${tid('file-download')}`)]);
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), 'ST elevation: none\n');

  // The doctor invites a specialist of another institution, who joins signed in.
  await dp.selectOption(tid('invite-role'), 'specialist');
  await dp.click(tid('invite-button'));
  await waitFor(dp, () => document.querySelector('[data-testid="invite-link"]').value, null, { what: 'invite link' });
  const link = await dp.inputValue(tid('invite-link'));
  assert.match(link, /\/visit\.html#invite=/);
  await sp.goto(link);
  await waitFor(sp, () => !document.getElementById('join-button').disabled, null, { what: 'specialist devices ready' });
  await sp.click(tid('join-button'));
  await waitFor(sp, () => window.consilium.joined && window.consilium.remoteParticipants.length === 2, null, { what: 'specialist in the call' });
  const sid = await sp.evaluate(() => window.consilium.participantId);
  await waitForRemote(dp, [sid], (e) => e.video?.framesDecoded > 0, { what: 'doctor gets specialist' });
  await shot(dp, 'call-doctor');
  await shot(sp, 'call-specialist-zh');

  // A family member without an account, by a second link.
  await dp.selectOption(tid('invite-role'), 'family');
  await dp.click(tid('invite-button'));
  await waitFor(dp, (old) => document.querySelector('[data-testid="invite-link"]').value !== old, link, { what: 'second invite link' });
  const link2 = await dp.inputValue(tid('invite-link'));
  var gp = await signedPage(h, browser, 'guest', null);
  await gp.goto(link2);
  assert.equal(await gp.evaluate(() => location.hash), '', 'invite token out of the address bar');
  await waitFor(gp, () => !document.getElementById('join-button').disabled, null, { what: 'guest devices ready' });
  await gp.click(tid('join-button'));
  await waitFor(gp, () => window.consilium.lastError === 'name-required', null, { what: 'name asked' });
  await gp.fill(tid('guest-name'), 'Wang Jun');
  await gp.click(tid('join-button'));
  await waitFor(gp, () => window.consilium.joined && window.consilium.remoteParticipants.length === 3, null, { what: 'guest in the call' });
  assert.equal(await gp.isVisible(tid('file-input')), false, 'guests cannot upload');
  await waitFor(gp, () => window.consilium.files.length === 0 || true, null);
  await gp.fill(tid('chat-input'), 'Hi, I am her son');
  await gp.click(tid('chat-send'));
  await waitFor(pp, () => window.consilium.chat.some((m) => m.text === 'Hi, I am her son' && m.name === 'Wang Jun'), null, { what: 'guest chat at patient' });
  // The used link does not work twice.
  var gp2 = await signedPage(h, browser, 'guest-2', null);
  await gp2.goto(link2);
  await waitFor(gp2, () => !document.getElementById('join-button').disabled, null, { what: 'guest 2 devices' });
  await gp2.fill(tid('guest-name'), 'Someone');
  await gp2.click(tid('join-button'));
  await waitFor(gp2, () => window.consilium.lastError === 'invite-invalid', null, { what: 'used link refused' });
  gp2.errors = gp2.errors.filter((e) => !/status of 404/.test(e));

  // The doctor ends the visit; the patient sees the summary.
  await dp.fill(tid('end-diagnosis'), 'Stable angina');
  await dp.fill(tid('end-advice'), 'Exercise ECG next week.\nNitroglycerin as needed.');
  await dp.click(tid('end-submit'));
  await waitFor(dp, () => window.consilium.leftReason === 'ended', null, { what: 'doctor ended' });
  await waitFor(pp, () => window.consilium.leftReason === 'completed' && document.querySelector('[data-testid="visit-summary"]'), null, { what: 'patient sees summary' });
  assert.equal((await pp.textContent(tid('summary-diagnosis'))).trim(), 'Stable angina');
  await shot(pp, 'summary');
  await pp.goto(`${server.url}/clinic.html#visits`);
  await pp.selectOption(tid('visits-filter'), 'past');
  await waitFor(pp, () => document.querySelector('[data-testid="visit"][data-status="completed"] [data-testid="visit-summary"]'), null, { what: 'summary in the list' });

  for (const p of [pp, dp, sp, gp, gp2]) assert.deepEqual(p.errors, [], `${p.label}: console errors`);
});
