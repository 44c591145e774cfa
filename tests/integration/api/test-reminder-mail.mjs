// test-reminder-mail.mjs — reminders by e-mail ([smtp], docs/config.md)
// through a real SMTP server on loopback (smtp-sink.py, Python's smtpd):
// the patient and the doctor each get one message with the right envelope,
// headers, subject, time and link and nothing about the visit's reason;
// notifications.emailed_at is set; with the mail server gone the failure
// is logged once, emailed_at stays NULL, in-app reminders still arrive and
// the server stays up; starttls=required sends nothing to a server that
// cannot upgrade; a mail server that never answers does not hold up
// shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { wsClient } from '../../e2e/lib/harness.mjs';
import { book, openSlots } from './clinic-lib.mjs';
import { Cluster, createHarness, makeWorld, sleep, startServer, withTimeout } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FROM = 'reminders@consilium.test';
const REASON = 'crushing chest pain since Tuesday';

/** The SMTP sink on a free port; stopped (and its folder removed) on cleanup. */
async function startSink(h) {
  const dir = h.tempDir();
  const child = spawn('python3', [path.join(HERE, 'smtp-sink.py'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = h.log('smtp-sink');
  child.stderr.on('data', (d) => log.push(String(d)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await withTimeout(exited, 5000, 'smtp sink exit');
  };
  h.defer('stop smtp sink', stop);
  const port = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`smtp sink exited (${code}): ${log.join('')}`)));
  }), 10000, 'smtp sink listening');
  const messages = () => fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  return { port, stop, messages, log };
}

/** Polls @fn until it returns a truthy value. */
async function until(fn, what, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

function metric(text, result) {
  const m = new RegExp(`^consilium_reminder_emails_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `no ${result} counter in /metrics`);
  return Number(m[1]);
}

test('reminder e-mails', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const sink = await startSink(h);
  // Reminders every 2 s instead of every minute; the default 60-minute
  // reminder window covers visits 10 minutes ahead.
  const config = (port, { timeout = 10, starttls = 'off' } = {}) =>
    `${cluster.config()}[clinic]\nreminder_interval_seconds=2\n\n[smtp]\nurl=smtp://127.0.0.1:${port}\n` +
    `from=${FROM}\nstarttls=${starttls}\ntimeout_seconds=${timeout}\n`;
  const server = await startServer(h, cluster, { extraConfig: config(sink.port) });
  const w = await makeWorld(server);
  const { doctor, patient, patient2 } = w;
  const subscribe = async (acct) => {
    const c = await wsClient(server, h);
    c.send({ type: 'subscribe', id: 's', session: acct.token });
    assert.equal((await c.reply('s')).type, 'ok');
    return c;
  };
  const reminderOf = (appt) => (m) => m.type === 'notification' && m.notification.appointment_id === appt.id
    && m.notification.kind === 'appointment.reminder';
  const notifications = (appt) => cluster.sql(
    `SELECT user_id || ':' || (emailed_at IS NOT NULL) FROM notifications
     WHERE appointment_id = ${appt.id} AND kind = 'appointment.reminder' ORDER BY user_id`);
  const slots = await openSlots(server, doctor, { startInMs: 10 * 60000, count: 4, minutes: 15 });

  await t.test('patient and doctor are e-mailed, and the notifications marked', async () => {
    const pageP = await subscribe(patient);
    const appt = await book(server, patient, slots[0].id, REASON);
    const mails = await until(() => { const m = sink.messages(); return m.length >= 2 && m; }, 'two e-mails');
    sink.log.push(...mails.map((m) => `-- received:\n${m.raw}`));   // for diagnosis
    assert.equal(mails.length, 2, 'one e-mail per recipient');
    const link = `https://127.0.0.1:${server.port}/visit.html?appointment=${appt.id}`;
    const hm = appt.starts_at.slice(11, 16);
    const day = appt.starts_at.slice(0, 10);
    for (const [acct, other] of [[patient, doctor], [doctor, patient]]) {
      const mail = mails.find((m) => m.to === acct.email);
      assert.ok(mail, `no e-mail to the ${acct.role}: ${JSON.stringify(mails.map((m) => m.rcpt_to))}`);
      assert.deepEqual(mail.rcpt_to, [acct.email]);
      assert.equal(mail.mail_from, FROM);
      assert.equal(mail.from, FROM);
      assert.equal(mail.subject, `Reminder: your video visit at ${hm} UTC / 就诊提醒`);
      assert.equal(mail.content_type, 'text/plain');
      assert.equal(mail.charset, 'utf-8');
      assert.deepEqual(mail.defects, []);
      assert.match(mail.date, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
      assert.match(mail.message_id, /^<[0-9a-f-]{36}@consilium\.test>$/);
      // Both languages, each with the time and the link.
      assert.ok(mail.body.includes(`starts at ${hm} UTC on ${day}.`), mail.body);
      assert.ok(mail.body.includes(`将于 ${day} ${hm}（UTC）开始`), mail.body);
      assert.equal(mail.body.split(link).length - 1, 2, `the link twice: ${mail.body}`);
      // No health data, no name of the other party.
      assert.ok(!mail.body.includes(REASON) && !mail.raw.includes(REASON), 'the reason leaked');
      assert.ok(!mail.body.includes(other.email));
      if (acct === patient) {
        assert.ok(mail.body.includes('Your video visit with The doctor starts'), mail.body);
        assert.ok(mail.body.includes('您与 The doctor 的视频就诊'), mail.body);
      } else {
        assert.ok(mail.body.includes('Your video visit starts'), mail.body);
        assert.ok(!mail.body.includes('The patient'), 'the patient named to the doctor');
      }
    }
    assert.deepEqual(await until(async () => {
      const rows = await notifications(appt);
      return rows.length === 2 && rows.every((r) => r.endsWith(':true')) && rows;
    }, 'emailed_at set on both notifications'),
    [`${Math.min(patient.id, doctor.id)}:true`, `${Math.max(patient.id, doctor.id)}:true`]);
    // The in-app reminder went out too.
    assert.equal((await pageP.next(reminderOf(appt), 'in-app reminder', 20000)).notification.appointment.id, appt.id);
    const metrics = (await server.get('/metrics')).body;
    assert.equal(metric(metrics, 'sent'), 2);
    assert.equal(metric(metrics, 'failed'), 0);
    assert.equal(metric(metrics, 'dropped'), 0);
  });

  await t.test('a mail server that is down: logged once, not marked, in-app still pushed', async () => {
    await sink.stop();
    const page2 = await subscribe(patient2);
    const warningsBefore = server.tail(100000).split('\n').filter((l) => l.includes('e-mail not sent')).length;
    const appt = await book(server, patient2, slots[1].id, REASON);
    const n = await page2.next(reminderOf(appt), 'in-app reminder with the mail server down', 20000);
    assert.equal(n.notification.data.starts_at, appt.starts_at);
    const failed = await until(async () => {
      const m = (await server.get('/metrics')).body;
      return metric(m, 'failed') >= 2 && m;
    }, 'two failed e-mails counted');
    assert.equal(metric(failed, 'failed'), 2);
    assert.equal(metric(failed, 'sent'), 2);
    const warnings = server.tail(100000).split('\n').filter((l) => l.includes('e-mail not sent'));
    assert.equal(warnings.length - warningsBefore, 1, `one warning per round:\n${warnings.join('\n')}`);
    const line = warnings.at(-1);
    assert.match(line, / warning cs-server: e-mail not sent: /);
    for (const secret of [patient2.email, doctor.email, 'The patient2', 'The doctor', REASON])
      assert.ok(!line.includes(secret), `the warning names ${secret}: ${line}`);
    assert.deepEqual(await notifications(appt),
      [`${Math.min(patient2.id, doctor.id)}:false`, `${Math.max(patient2.id, doctor.id)}:false`]);
    assert.ok(server.alive, 'consiliumd died');
    assert.equal((await server.get('/healthz')).status, 200);
  });

  await t.test('starttls=required sends nothing to a server without STARTTLS', async () => {
    await server.stop();
    const plain = await startSink(h);
    const serverT = await startServer(h, cluster, { extraConfig: config(plain.port, { starttls: 'required' }) });
    await book(serverT, patient2, slots[2].id);
    const m = await until(async () => {
      const text = (await serverT.get('/metrics')).body;
      return metric(text, 'failed') >= 2 && text;
    }, 'two refused e-mails counted');
    assert.equal(metric(m, 'sent'), 0);
    assert.deepEqual(plain.messages(), []);
    assert.match(serverT.tail(50), /warning cs-server: e-mail not sent: Requested SSL level failed/);
    await serverT.stop();
  });

  await t.test('a mail server that never answers does not hold up shutdown', async () => {
    const conns = [];
    const silent = net.createServer((sock) => conns.push(sock));   // accepts, never greets
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    h.defer('close the silent mail server', () => {
      for (const sock of conns) sock.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const server2 = await startServer(h, cluster, { extraConfig: config(silent.address().port, { timeout: 600 }) });
    await book(server2, patient, slots[3].id);
    await until(() => conns.length > 0, 'a connection to the silent mail server');
    const t0 = Date.now();
    await server2.stop();
    const ms = Date.now() - t0;
    t.diagnostic(`stopped in ${ms} ms with an e-mail in flight`);
    assert.deepEqual(h.failures, [], 'consiliumd did not exit cleanly');
    assert.ok(ms < 5000, `shutdown took ${ms} ms with an e-mail in flight`);
  });
});
