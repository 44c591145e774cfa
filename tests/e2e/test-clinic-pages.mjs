// The clinic page's other tabs and the host controls, through the browser:
// the weekly schedule with leave and slot blocking, a referral from a
// primary clinic to a hospital department (accept, schedule a joint
// consultation with one more specialist, report, close), a refused booking
// (slot-taken), host mute / remove / admit from the lobby, the admin's
// missed visits, Chinese, and phone width. Fails on any console error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, waitFor } from './lib/harness.mjs';
import { apiStaff, signedPage, shot as shotTo, tid } from './lib/clinic.mjs';
import { apiBootstrapAdmin, apiRegister, apiLogin } from './lib/account.mjs';




const shot = (page, name) => shotTo(page, `clinic-${name}`, true);

const notice = (page, key) => waitFor(page, (k) => window.consiliumClinic.notice === k, key, { what: `notice ${key}` });
const noOverflow = async (page) => {
  const o = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(o <= 0, `${page.label}: no sideways scrolling (${o} px)`);
};

test('clinic tabs, referrals and host controls', { timeout: 400000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true, extraConfig: '[clinic]\nroom_open_minutes=120\ncancel_window_minutes=0\n' });
  const admin = await apiBootstrapAdmin(server);
  const inst = async (name, kind) => (await server.api('POST', '/institutions', { token: admin.token, body: { name, kind } })).body.institution.id;
  const hospital = await inst('City Hospital', 'hospital');
  const clinic = await inst('Riverside Clinic', 'primary_clinic');
  const university = await inst('University Hospital', 'hospital');
  const dep = (await server.api('POST', '/departments', { token: admin.token, body: { institution_id: hospital, name: 'Cardiology' } })).body;
  const li = await apiStaff(server, admin, { email: 'li@example.org', name: 'Dr Li Wei', institution: hospital, specialty: 'cardiology', department: dep.id });
  const zhou = await apiStaff(server, admin, { email: 'zhou@example.org', name: 'Dr Zhou Min', institution: clinic, specialty: 'general practice' });
  const chen = await apiStaff(server, admin, { email: 'chen@example.org', name: 'Prof Chen', role: 'specialist', institution: university, specialty: 'electrophysiology' });
  const wang = await apiRegister(server, { email: 'wang@example.org', password: 'patient-password-1', name: 'Wang Fang' });
  const patient = await apiLogin(server, 'wang@example.org', 'patient-password-1');
  await apiRegister(server, { email: 'zhao@example.org', password: 'patient-password-1', name: 'Zhao Lei' });
  const other = await apiLogin(server, 'zhao@example.org', 'patient-password-1');
  // The clinic doctor looks after the patient.
  let r = await server.api('POST', `/doctors/${zhou.user.id}/patients/${wang.id}`, { token: admin.token });
  assert.equal(r.status, 204, JSON.stringify(r.body));

  const browser = await h.launchChromium();
  const dl = await signedPage(h, browser, 'li', li.token);
  const dz = await signedPage(h, browser, 'zhou', zhou.token);
  const dc = await signedPage(h, browser, 'chen', chen.token);
  const pp = await signedPage(h, browser, 'patient', patient.token);

  // ---- Dr Li's schedule: weekly hours, an extra session soon, leave, block/release.
  await dl.goto(`${server.url}/clinic.html#schedule`);
  await waitFor(dl, () => window.consiliumClinic?.tab === 'schedule' && document.getElementById('roster-timezone').value, null, { what: 'schedule tab' });
  await dl.fill('#roster-timezone', 'UTC');
  await dl.click(tid('roster-add'));
  await dl.click(tid('roster-add'));
  const rows = dl.locator(tid('roster-row'));
  assert.equal(await rows.count(), 2);
  await rows.nth(1).locator('.start').fill('14:00');
  await rows.nth(1).locator('.end').fill('16:00');
  await rows.nth(1).locator('.minutes').fill('20');
  await dl.click(tid('roster-save'));
  await notice(dl, 'roster.saved');
  r = await server.api('GET', `/doctors/${li.user.id}/roster`, { token: li.token });
  assert.deepEqual(r.body.templates.map((x) => [x.weekday, x.start, x.end, x.slot_minutes]), [[1, '09:00', '12:00', 15], [2, '14:00', '16:00', 20]]);
  // An extra session starting in a few minutes (local datetime inputs).
  const local = (d) => new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const t0 = new Date(Math.ceil((Date.now() + 5 * 60000) / 60000) * 60000);
  await dl.selectOption(tid('exception-kind'), 'extra');
  await dl.evaluate(({ s, e }) => {
    document.getElementById('exception-starts').value = s;
    document.getElementById('exception-ends').value = e;
  }, { s: local(t0), e: local(new Date(+t0 + 90 * 60000)) });
  await dl.fill(tid('exception-minutes'), '15');
  await dl.click(tid('exception-add'));
  await notice(dl, 'exception.added.extra');
  await waitFor(dl, () => document.querySelectorAll('[data-testid="exception"]').length === 1, null, { what: 'exception listed' });
  await waitFor(dl, () => document.querySelectorAll('#myslots-table tbody tr[data-status="free"]').length >= 6, null, { what: 'slots listed' });
  await dl.click(`#myslots-table tbody tr[data-status="free"] >> nth=0 >> ${tid('slot-block')}`);
  await notice(dl, 'myslots.blocked');
  await waitFor(dl, () => document.querySelectorAll('#myslots-table tbody tr[data-status="blocked"]').length === 1, null, { what: 'slot blocked' });
  await dl.click(`#myslots-table tbody tr[data-status="blocked"] ${tid('slot-release')}`);
  await notice(dl, 'myslots.released');
  await shot(dl, 'schedule');

  // ---- A refused booking: someone else takes the slot first.
  await pp.goto(`${server.url}/clinic.html#find`);
  await waitFor(pp, (id) => document.querySelector(`[data-doctor="${id}"] [data-testid="doctor-times"]`), li.user.id, { what: 'Dr Li listed' });
  await pp.click(`[data-doctor="${li.user.id}"] ${tid('doctor-times')}`);
  await pp.click(`${tid('slot')} >> nth=0`);
  const slotId = Number(await pp.getAttribute(`${tid('slot')} >> nth=0`, 'data-slot'));
  r = await server.api('POST', '/appointments', { token: other.token, body: { slot_id: slotId } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await pp.click(tid('book-button'));
  await waitFor(pp, () => window.consiliumClinic.error === 'slot-taken', null, { what: 'slot-taken shown' });
  assert.match(await pp.textContent('#error-text'), /just booked this time/);
  await waitFor(pp, (id) => !document.querySelector(`[data-testid="slot"][data-slot="${id}"]`), slotId, { what: 'taken slot gone' });

  // ---- Book, move and cancel a visit.
  await pp.click(`${tid('slot')} >> nth=1`);
  await pp.click(tid('book-button'));
  await waitFor(pp, () => window.consiliumClinic.notice === 'book.done', null, { what: 'booked' });
  await pp.goto(`${server.url}/clinic.html#visits`);
  await waitFor(pp, () => document.querySelector('[data-testid="visit"] [data-testid="visit-reschedule"]'), null, { what: 'visit listed' });
  const before = await pp.getAttribute(tid('visit'), 'data-appointment');
  await pp.click(tid('visit-reschedule'));
  await pp.click(`dialog ${tid('slot')} >> nth=2`);
  await pp.click(`dialog ${tid('dialog-submit')}`);
  await waitFor(pp, () => window.consiliumClinic.notice === 'reschedule.done', null, { what: 'moved' });
  await waitFor(pp, (b) => document.querySelector('[data-testid="visit"]')?.dataset.appointment !== b, before, { what: 'new appointment listed' });
  await pp.click(tid('visit-cancel'));
  await pp.fill(`dialog ${tid('dialog-reason')}`, 'Feeling better');
  await pp.click(`dialog ${tid('dialog-submit')}`);
  await waitFor(pp, () => window.consiliumClinic.notice === 'cancel.done', null, { what: 'cancelled' });
  await waitFor(pp, () => !document.querySelector('[data-testid="visit"]'), null, { what: 'no upcoming visits' });

  // ---- The clinic doctor refers the patient to the hospital's cardiology.
  await dz.goto(`${server.url}/clinic.html#referrals`);
  await waitFor(dz, () => window.consiliumClinic?.tab === 'referrals' && document.querySelectorAll('#ref-institution option').length > 1, null, { what: 'referral form' });
  await dz.selectOption(tid('ref-patient'), 'other');
  await dz.fill(tid('ref-patient-number'), String(wang.id));
  await dz.selectOption(tid('ref-institution'), String(hospital));
  await waitFor(dz, () => document.querySelectorAll('#ref-department option').length > 1, null, { what: 'departments' });
  await dz.selectOption(tid('ref-department'), String(dep.id));
  await dz.selectOption(tid('ref-urgency'), 'urgent');
  await dz.fill(tid('ref-reason'), 'Exertional chest pain; please assess.');
  await dz.setInputFiles(tid('ref-documents'), { name: 'ecg.txt', mimeType: 'text/plain', buffer: Buffer.from('sinus rhythm\n') });
  await dz.click(tid('ref-submit'));
  await notice(dz, 'referral.sent');
  await waitFor(dz, () => document.querySelector('#referrals-out [data-testid="referral"][data-status="requested"] [data-testid="file"]'), null, { what: 'sent referral listed with document' });
  const refId = Number(await dz.getAttribute(`#referrals-out ${tid('referral')}`, 'data-referral'));

  // Dr Li (cardiology) accepts it and schedules the consultation with Prof Chen.
  await dl.goto(`${server.url}/clinic.html#referrals`);
  await waitFor(dl, (id) => document.querySelector(`#referrals-in [data-referral="${id}"] [data-testid="referral-accept"]`), refId, { what: 'received referral' });
  await dl.click(`#referrals-in [data-referral="${refId}"] ${tid('referral-accept')}`);
  await notice(dl, 'referral.accepted');
  await dl.click(`#referrals-in [data-referral="${refId}"] ${tid('referral-schedule')}`);
  await dl.click(`dialog ${tid('slot')} >> nth=0`);
  await dl.selectOption(`dialog ${tid('dialog-specialists')}`, [String(chen.user.id)]);
  await shot(dl, 'schedule-dialog');
  await dl.click(`dialog ${tid('dialog-submit')}`);
  await notice(dl, 'referral.scheduled');
  await waitFor(dl, (id) => document.querySelector(`#referrals-in [data-referral="${id}"][data-status="scheduled"]`), refId, { what: 'scheduled' });
  r = await server.api('GET', `/referrals/${refId}`, { token: li.token });
  const appt = r.body.appointment.id;

  // The joint consultation is in everyone's visits.
  for (const p of [dz, dc, pp]) {
    await p.goto(`${server.url}/clinic.html#visits`);
    await p.reload();
    await waitFor(p, (id) => document.querySelector(`[data-testid="visit"][data-appointment="${id}"]`), appt, { what: `${p.label}: consultation listed` });
  }

  // ---- The consultation: patient waits, Li admits in the call; host controls.
  await pp.goto(`${server.url}/visit.html?appointment=${appt}`);
  await waitFor(pp, () => !document.getElementById('join-button').disabled, null, { what: 'patient devices' });
  await pp.click(tid('join-button'));
  await waitFor(pp, () => window.consilium.phase === 'waiting', null, { what: 'patient waiting' });
  await dl.goto(`${server.url}/visit.html?appointment=${appt}`);
  await waitFor(dl, () => !document.getElementById('join-button').disabled, null, { what: 'doctor devices' });
  await dl.click(tid('join-button'));
  await waitFor(dl, () => window.consilium.joined && window.consilium.lobby.length === 1, null, { what: 'doctor sees lobby' });
  await dl.click(tid('lobby-admit'));
  await waitFor(pp, () => window.consilium.phase === 'call', null, { what: 'patient admitted' });
  const pid = await pp.evaluate(() => window.consilium.participantId);
  // The referring clinic doctor joins from the referral.
  await dz.goto(`${server.url}/clinic.html#referrals`);
  await dz.click(`#referrals-out [data-referral="${refId}"] ${tid('referral-visit')}`);
  await waitFor(dz, () => !document.getElementById('join-button').disabled, null, { what: 'clinic doctor devices' });
  await dz.click(tid('join-button'));
  await waitFor(dz, () => window.consilium.joined && window.consilium.remoteParticipants.length === 2, null, { what: 'clinic doctor in call' });
  assert.equal(await dz.evaluate(() => window.consilium.access.role), 'clinic');

  // Mute the patient's microphone, then remove and admit again.
  await waitFor(dl, (id) => document.querySelector(`[data-testid="host-mute-audio"][data-participant="${id}"]`), pid, { what: 'host controls' });
  await dl.click(`${tid('host-mute-audio')}[data-participant="${pid}"]`);
  await waitFor(pp, () => document.getElementById('mic-button').dataset.off === 'true', null, { what: 'patient muted by host' });
  await waitFor(dz, (id) => window.consilium.remoteParticipants.find((p) => p.id === id)?.audioMuted, pid, { what: 'others see muted' });
  await dl.click(`${tid('host-remove')}[data-participant="${pid}"]`);
  await dl.click(`dialog ${tid('dialog-submit')}`);
  await waitFor(pp, () => window.consilium.leftReason === 'removed', null, { what: 'patient removed' });
  await waitFor(dl, () => window.consilium.remoteParticipants.length === 1, null, { what: 'patient gone' });
  await pp.reload();
  await waitFor(pp, () => !document.getElementById('join-button').disabled, null, { what: 'patient devices again' });
  await pp.click(tid('join-button'));
  await waitFor(pp, () => window.consilium.phase === 'waiting', null, { what: 'removed patient waits' });
  await waitFor(dl, () => window.consilium.lobby.length === 1, null, { what: 'lobby again' });
  await dl.click(tid('lobby-admit'));
  await waitFor(pp, () => window.consilium.phase === 'call', null, { what: 'patient back' });

  // Prof Chen writes the report from the received box... as the extra specialist he is a participant;
  // Dr Li (assigned) writes it here.
  await dc.goto(`${server.url}/clinic.html#referrals`);
  await waitFor(dc, () => window.consiliumClinic?.tab === 'referrals', null, { what: 'chen referrals' });
  const li2 = await signedPage(h, browser, 'li-2', li.token);
  await li2.goto(`${server.url}/clinic.html#referrals`);
  await waitFor(li2, (id) => document.querySelector(`#referrals-in [data-referral="${id}"][data-status="in_consultation"] [data-testid="referral-write-report"]`), refId, { what: 'report button' });
  await li2.click(`#referrals-in [data-referral="${refId}"] ${tid('referral-write-report')}`);
  await li2.fill(`dialog ${tid('dialog-report')}`, 'Stable angina. Start a beta blocker; review in 3 months.');
  await li2.click(`dialog ${tid('dialog-submit')}`);
  await notice(li2, 'referral.report.sent');
  await dz.goto(`${server.url}/clinic.html#referrals`);
  await waitFor(dz, (id) => document.querySelector(`#referrals-out [data-referral="${id}"][data-status="report_returned"] [data-testid="referral-report"]`), refId, { what: 'report at clinic' });
  await dz.click(`#referrals-out [data-referral="${refId}"] ${tid('referral-close')}`);
  await notice(dz, 'referral.closed');
  await waitFor(dz, (id) => document.querySelector(`#referrals-out [data-referral="${id}"][data-status="closed"]`), refId, { what: 'closed' });
  await shot(dz, 'referrals-out');

  // ---- Admin: missed visits.
  const ap = await signedPage(h, browser, 'admin', admin.token);
  await ap.goto(`${server.url}/clinic.html`);
  await waitFor(ap, () => window.consiliumClinic?.tab === 'visits' && document.querySelectorAll('[data-testid="visit"]').length >= 1, null, { what: 'admin visits' });
  await ap.goto(`${server.url}/clinic.html#no-shows`);
  await waitFor(ap, () => document.getElementById('no-shows-summary').textContent, null, { what: 'no-shows' });

  // ---- Chinese, switched in place, and phone width.
  const zp = await signedPage(h, browser, 'patient-zh', patient.token, { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  await zp.goto(`${server.url}/clinic.html#find`);
  await waitFor(zp, () => document.querySelector('[data-testid="doctor"]'), null, { what: 'zh doctors' });
  assert.equal((await zp.textContent('#find-heading')).trim(), '找医生');
  assert.equal((await zp.textContent(tid('find-search'))).trim(), '搜索');
  await noOverflow(zp);
  await shot(zp, 'find-zh-phone');
  await zp.goto(`${server.url}/clinic.html#visits`);
  await waitFor(zp, () => document.querySelector('[data-testid="visit"]'), null, { what: 'zh visits' });
  await noOverflow(zp);
  await shot(zp, 'visits-zh-phone');
  await zp.selectOption('#lang-select', 'en');
  assert.equal((await zp.textContent('#visits-heading')).trim(), 'Visits');
  await zp.goto(`${server.url}/visit.html?appointment=${appt}`);
  await waitFor(zp, () => !document.getElementById('join-button').disabled, null, { what: 'zh visit page' });
  await noOverflow(zp);
  await zp.selectOption('#lang-select', 'zh-CN');
  assert.equal((await zp.textContent('#check-heading')).trim(), '就诊前准备');
  await shot(zp, 'check-zh-phone');

  // The refused booking's 409 is the browser's own network log line.
  pp.errors = pp.errors.filter((e) => !/status of 409/.test(e));
  for (const p of [dl, dz, dc, pp, ap, zp, li2]) assert.deepEqual(p.errors, [], `${p.label}: console errors`);
});
