// test-visit-ws.mjs — the signaling half of a visit (docs/signaling.md, "The
// lobby" and the visit messages) against a real database: a patient with a
// lobby token is held (an offer gets not-admitted) until the doctor admits
// them, which the database records (in_consultation) and may refuse
// (doctor-busy); chat is stored with the visit and broadcast; the host
// mutes and removes, others may not; file notices are checked against the
// visit; uploads take raw bodies up to [clinic] file_max_bytes; reminders
// reach the pages that subscribed.
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';

import { wsClient } from '../../e2e/lib/harness.mjs';
import { api, Cluster, createHarness, errorCode, makeWorld, startServer, withTimeout } from './lib.mjs';

async function ok(resPromise, status, what) {
  const res = await resPromise;
  assert.equal(res.status, status, `${what}: ${res.text}`);
  return res.json;
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const day = (ms) => iso(ms).slice(0, 10);
const ofType = (type, more = () => true) => (m) => m.type === type && more(m);

/** Joins @token; resolves the client and its first answer (joined or waiting). */
async function join(server, h, token, id = 1) {
  const c = await wsClient(server, h);
  c.send({ type: 'join', id, token });
  const first = await c.reply(id, 'join answer');
  return { c, first };
}

/** POST of @size declared bytes of which only a little is sent: the answer
 *  must come before the body (a refusal of the declared length). */
function declareOnly(server, path, token, size, type) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.request(`${server.url}/api/v1${path}`, {
      method: 'POST', rejectUnauthorized: false, agent: false,
      headers: { 'content-type': type, 'content-length': size, authorization: `Bearer ${token}` },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.write('%PDF-1.4\n');
  }), 20000, `POST ${path} (declared ${size} bytes)`);
}

test('the visit over the WebSocket', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  // Rooms open two hours early, so every visit below is open now.
  const server = await startServer(h, cluster, {
    extraConfig: `${cluster.config()}[clinic]\nroom_open_minutes=120\n`,
  });
  const w = await makeWorld(server);
  const { doctor, patient, patient2 } = w;

  // Pages subscribe before the visit that will be reminded is booked: the
  // server looks for due reminders every minute.
  const note2 = await wsClient(server, h);
  note2.send({ type: 'subscribe', id: 's', session: patient2.token });
  assert.equal((await note2.reply('s')).type, 'ok');
  const noteD = await wsClient(server, h);
  noteD.send({ type: 'subscribe', id: 's', session: doctor.token });
  assert.equal((await noteD.reply('s')).type, 'ok');

  // An extra session of three 15-minute video slots starting in about five minutes.
  await ok(api(server, 'PUT', `/doctors/${doctor.id}/roster`, {
    token: doctor.token, body: { timezone: 'UTC', templates: [] },
  }), 200, 'roster');
  const start = Math.ceil(Date.now() / 60000) * 60000 + 5 * 60000;
  await ok(api(server, 'POST', `/doctors/${doctor.id}/roster/exceptions`, {
    token: doctor.token,
    body: { kind: 'extra', starts_at: iso(start), ends_at: iso(start + 45 * 60000), slot_minutes: 15, visit_type: 'video' },
  }), 201, 'extra session');
  const slots = (await ok(api(server, 'GET',
    `/doctors/${doctor.id}/slots?from=${day(start)}&to=${day(start + 86400000)}`, { token: patient.token }),
  200, 'slots')).items.filter((s) => Date.parse(s.starts_at) >= start);
  assert.equal(slots.length, 3, JSON.stringify(slots));
  const book = (acct, slot) => ok(api(server, 'POST', '/appointments', {
    token: acct.token, body: { slot_id: slot.id },
  }), 201, 'book');
  const apptA = await book(patient, slots[0]);
  const apptB = await book(patient2, slots[1]);
  const apptC = await book(patient2, slots[2]);   // stays booked: reminded
  const roomToken = (acct, appt) => ok(api(server, 'POST', `/appointments/${appt.id}/room-token`, {
    token: acct.token,
  }), 201, 'room token');

  let pc, dc, patientId;

  await t.test('a patient with a lobby token is held until the doctor admits', async () => {
    const pt = await roomToken(patient, apptA);
    assert.equal(pt.lobby, true);
    assert.equal(pt.host, false);
    const dt = await roomToken(doctor, apptA);
    assert.equal(dt.host, true);
    assert.equal(dt.lobby, false);

    const p = await join(server, h, pt.token);
    pc = p.c;
    assert.equal(p.first.type, 'waiting', JSON.stringify(p.first));
    assert.equal(p.first.room, `appt-${apptA.id}`);
    assert.equal(p.first.position, 1);
    assert.match(p.first.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    patientId = p.first.participant.id;

    // Held: media and chat are refused, the connection keeps waiting.
    pc.send({ type: 'offer', id: 2, sdp: 'v=0\r\n' });
    assert.equal((await pc.reply(2)).code, 'not-admitted');
    pc.send({ type: 'chat', id: 3, text: 'let me in' });
    assert.equal((await pc.reply(3)).code, 'not-admitted');
    pc.send({ type: 'ping', id: 4 });
    assert.equal((await pc.reply(4)).type, 'pong');
    assert.equal((await api(server, 'GET', `/appointments/${apptA.id}`, { token: doctor.token })).json.status, 'waiting');

    const d = await join(server, h, dt.token);
    dc = d.c;
    assert.equal(d.first.type, 'joined');
    assert.equal(d.first.participant.host, true);
    assert.deepEqual(d.first.participants, [], 'the waiting patient is not in the room');
    const lobby = await dc.next(ofType('lobby'), 'lobby');
    assert.equal(lobby.waiting.length, 1);
    assert.equal(lobby.waiting[0].id, patientId);
    assert.equal(lobby.waiting[0].user, String(patient.id));
    assert.equal(lobby.waiting[0].name, 'The patient');
    assert.equal(lobby.waiting[0].since, p.first.since);

    dc.send({ type: 'admit', id: 2, participant: patientId });
    const joined = await pc.next(ofType('joined'), 'joined after admission');
    assert.equal(joined.id, 1, 'joined answers the join');
    assert.equal(joined.participant.id, patientId);
    assert.equal(joined.participants[0].id, d.first.participant.id);
    assert.equal((await dc.reply(2)).type, 'ok');
    assert.equal((await dc.next(ofType('participant-joined'))).participant.id, patientId);
    assert.deepEqual((await dc.next(ofType('lobby'))).waiting, []);
    const a = await ok(api(server, 'GET', `/appointments/${apptA.id}`, { token: doctor.token }), 200, 'appointment');
    assert.equal(a.status, 'in_consultation');
  });

  let p2c, dcB;
  await t.test('a refusal of the database reaches the host and the patient keeps waiting', async () => {
    const p2 = await join(server, h, (await roomToken(patient2, apptB)).token);
    p2c = p2.c;
    assert.equal(p2.first.type, 'waiting');
    const d = await join(server, h, (await roomToken(doctor, apptB)).token);
    dcB = d.c;
    assert.equal((await dcB.next(ofType('lobby'))).waiting[0].id, p2.first.participant.id);
    dcB.send({ type: 'admit', id: 'a', participant: p2.first.participant.id });
    const err = await dcB.reply('a');
    assert.equal(err.type, 'error');
    assert.equal(err.code, 'doctor-busy', JSON.stringify(err));
    p2c.send({ type: 'offer', id: 2, sdp: 'v=0\r\n' });
    assert.equal((await p2c.reply(2)).code, 'not-admitted');
    assert.equal(errorCode(await api(server, 'POST', `/appointments/${apptB.id}/admit`, { token: doctor.token })),
      'doctor-busy');
    // Nobody but a host admits.
    pc.send({ type: 'admit', id: 'x', participant: p2.first.participant.id });
    assert.equal((await pc.reply('x')).code, 'forbidden');
    // An id that is not waiting in this room's lobby.
    dc.send({ type: 'admit', id: 'y', participant: p2.first.participant.id });
    assert.equal((await dc.reply('y')).code, 'not-found');
  });

  await t.test('chat is stored with the visit and reaches everyone', async () => {
    pc.send({ type: 'chat', id: 5, text: 'Hello doctor, 你好' });
    const mine = await pc.next(ofType('chat'), 'own chat');
    const theirs = await dc.next(ofType('chat'), 'chat at the doctor');
    assert.deepEqual(mine, theirs);
    assert.equal((await pc.reply(5)).type, 'ok');
    const m = mine.message;
    assert.equal(typeof m.id, 'number');
    assert.equal(m.sender_id, patient.id);
    assert.equal(m.participant, patientId);
    assert.equal(m.name, 'The patient');
    assert.equal(m.role, 'patient');
    assert.equal(m.text, 'Hello doctor, 你好');
    assert.match(m.sent_at, /Z$/);

    dc.send({ type: 'chat', id: 6, text: 'Hello, I can see you.' });
    const reply = (await pc.next(ofType('chat'))).message;
    assert.equal(reply.sender_id, doctor.id);
    assert.equal(reply.role, 'doctor');
    assert.ok(reply.id > m.id);

    const list = await ok(api(server, 'GET', `/appointments/${apptA.id}/messages`, { token: patient.token }), 200, 'messages');
    assert.deepEqual(list.items.map((x) => [x.id, x.sender_id, x.text]),
      [[m.id, patient.id, m.text], [reply.id, doctor.id, reply.text]]);

    pc.send({ type: 'chat', id: 7, text: '' });
    assert.equal((await pc.reply(7)).code, 'bad-message');
    pc.send({ type: 'chat', id: 8, text: 'x'.repeat(4001) });
    assert.equal((await pc.reply(8)).code, 'bad-message');

    // A room that is not a visit passes messages on without storing them.
    const demo = async (acct) => (await ok(api(server, 'POST', '/room-tokens', {
      token: acct.token, body: { room: 'demo-chat' },
    }), 201, 'demo token')).token;
    const x = await join(server, h, await demo(patient2));
    const y = await join(server, h, await demo(w.specialist));
    x.c.send({ type: 'chat', id: 1, text: 'off the record' });
    const got = (await y.c.next(ofType('chat'))).message;
    assert.equal(got.id, null);
    assert.equal(got.sender_id, patient2.id);
    assert.equal(got.text, 'off the record');
    assert.equal((await x.c.reply(1)).type, 'ok');
  });

  await t.test('the host mutes and removes; nobody else may', async () => {
    pc.send({ type: 'mute-participant', id: 1, participant: patientId, kind: 'audio' });
    assert.equal((await pc.reply(1)).code, 'forbidden');
    pc.send({ type: 'remove', id: 2, participant: patientId });
    assert.equal((await pc.reply(2)).code, 'forbidden');

    dc.send({ type: 'mute-participant', id: 3, participant: patientId, kind: 'audio' });
    assert.deepEqual(await pc.next(ofType('muted-by-host')), { type: 'muted-by-host', kind: 'audio' });
    assert.equal((await dc.reply(3)).type, 'ok');
    const upd = await dc.next(ofType('participant-updated'));
    assert.equal(upd.participant.id, patientId);
    assert.equal(upd.participant.audio_muted, true);
    assert.equal(upd.participant.video_muted, false);

    dc.send({ type: 'remove', id: 4, participant: 'p0000000000000000' });
    assert.equal((await dc.reply(4)).code, 'not-found');

    // An invited family member joins directly (the link is the admission),
    // is removed, and on coming back waits in the lobby until refused.
    const inv = await ok(api(server, 'POST', `/appointments/${apptA.id}/invites`, {
      token: doctor.token, body: { role: 'family', label: 'Daughter' },
    }), 201, 'invite');
    const guestTok = (await ok(api(server, 'POST', '/invites/redeem', {
      body: { token: inv.token, name: 'Daughter' },
    }), 201, 'redeem')).token;
    const g = await join(server, h, guestTok);
    assert.equal(g.first.type, 'joined');
    const gid = g.first.participant.id;
    dc.send({ type: 'remove', id: 5, participant: gid });
    assert.deepEqual(await g.c.next(ofType('removed')), { type: 'removed', from: 'room' });
    assert.equal((await g.c.waitClosed()).code, 1000);
    assert.equal((await dc.reply(5)).type, 'ok');
    assert.equal((await pc.next(ofType('participant-left', (m) => m.participant.id === gid))).type, 'participant-left');

    const back = await join(server, h, guestTok);
    assert.equal(back.first.type, 'waiting', 'a removed participant comes back through the lobby');
    assert.equal((await dc.next(ofType('lobby', (m) => m.waiting.length === 1))).waiting[0].id, back.first.participant.id);
    dc.send({ type: 'remove', id: 6, participant: back.first.participant.id });
    assert.deepEqual(await back.c.next(ofType('removed')), { type: 'removed', from: 'lobby' });
    assert.equal((await back.c.waitClosed()).code, 1000);
    assert.deepEqual((await dc.next(ofType('lobby'))).waiting, []);
  });

  await t.test('uploads take raw bodies up to file_max_bytes; file notices are checked', async () => {
    const pdf = Buffer.alloc(1024 * 1024, 0x20);
    pdf.write('%PDF-1.4\n');
    const up = await ok(api(server, 'POST', `/appointments/${apptA.id}/files?name=scan.pdf`, {
      token: patient.token, body: pdf, headers: { 'content-type': 'application/pdf' },
    }), 201, 'upload 1 MiB');
    assert.equal(up.size, pdf.length);
    assert.equal(up.content_type, 'application/pdf');
    const back = await api(server, 'GET', `/appointments/${apptA.id}/files/${up.id}`, { token: doctor.token });
    assert.equal(back.status, 200);
    assert.equal(back.text.length, pdf.length);

    pc.send({ type: 'file-shared', id: 9, file_id: up.id });
    const seen = await dc.next(ofType('file-shared'), 'file notice');
    assert.deepEqual(seen.file, {
      id: up.id, filename: 'scan.pdf', size: pdf.length, content_type: 'application/pdf',
      uploader: { id: patient.id, name: 'The patient' }, participant: patientId,
    });
    assert.deepEqual((await pc.next(ofType('file-shared'))).file, seen.file);
    assert.equal((await pc.reply(9)).type, 'ok');

    // Another visit's file is not this visit's: no notice, nothing learnt.
    const other = await ok(api(server, 'POST', `/appointments/${apptB.id}/files?name=other.txt`, {
      token: patient2.token, body: 'private', headers: { 'content-type': 'text/plain' },
    }), 201, 'upload to another visit');
    pc.send({ type: 'file-shared', id: 10, file_id: other.id });
    assert.equal((await pc.reply(10)).code, 'not-found');

    const big = await declareOnly(server, `/appointments/${apptA.id}/files?name=big.pdf`, patient.token,
      11 * 1024 * 1024, 'application/pdf');
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'payload-too-large');
    const exe = await api(server, 'POST', `/appointments/${apptA.id}/files?name=setup.exe`, {
      token: patient.token, body: Buffer.from('MZ\x90\x00'), headers: { 'content-type': 'application/x-msdownload' },
    });
    assert.equal(exe.status, 400);
    assert.equal(errorCode(exe), 'unsupported-type');
    // Other routes keep the 64 KiB limit.
    const json = await api(server, 'POST', `/appointments/${apptC.id}/cancel`, {
      token: patient2.token, body: { reason: 'x'.repeat(70000) },
    });
    assert.equal(json.status, 413);
  });

  await t.test('an admission through the REST API opens the lobby', async () => {
    await ok(api(server, 'POST', `/appointments/${apptA.id}/complete`, {
      token: doctor.token, body: { diagnosis: 'Contact dermatitis', advice: 'Hydrocortisone 1%' },
    }), 200, 'complete');
    await ok(api(server, 'POST', `/appointments/${apptB.id}/admit`, { token: doctor.token }), 200, 'admit');
    assert.equal((await p2c.next(ofType('joined'), 'joined after REST admission')).id, 1);
    assert.deepEqual((await dcB.next(ofType('lobby', (m) => m.waiting.length === 0))).waiting, []);
  });

  await t.test('reminders reach the pages that subscribed', async () => {
    const bad = await wsClient(server, h);
    bad.send({ type: 'subscribe', id: 1, session: 'f'.repeat(64) });
    assert.equal((await bad.reply(1)).code, 'unauthorized');
    const isC = (m) => m.type === 'notification' && m.notification.appointment_id === apptC.id;
    const [n2, nD] = await Promise.all([
      note2.next(isC, 'reminder for the patient', 75000),
      noteD.next(isC, 'reminder for the doctor', 75000),
    ]);
    assert.equal(n2.notification.kind, 'appointment.reminder');
    assert.equal(n2.notification.data.starts_at, apptC.starts_at);
    assert.equal(n2.notification.appointment.id, apptC.id);
    assert.equal(nD.notification.kind, 'appointment.reminder');
    const listed = await ok(api(server, 'GET', '/notifications', { token: patient2.token }), 200, 'notifications');
    assert.ok(listed.items.some((n) => n.kind === 'appointment.reminder' && n.appointment_id === apptC.id));
  });
});
