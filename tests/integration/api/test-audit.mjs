// test-audit.mjs — actions show up in /audit with actor, role, action,
// object, result and source; search filters and pages; the export is JSON
// lines; room join/leave over the WebSocket is audited; /audit/verify is ok
// until one row is tampered with directly in SQL, and then names it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wsClient } from '../../e2e/lib/harness.mjs';
import { api, Cluster, createHarness, makeWorld, PASSWORD, sleep, startServer } from './lib.mjs';

test('audit trail', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);
  const w = await makeWorld(server);
  const audit = (query) => api(server, 'GET', `/audit?${query}`, { token: w.auditor.token });

  // Some traceable actions.
  await api(server, 'POST', '/auth/login', { body: { email: w.patient2.email, password: 'not the password' } });
  assert.equal((await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.doctor.token })).status, 200);
  assert.equal((await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.patient2.token })).status, 403);
  const tok = await api(server, 'POST', '/room-tokens', { token: w.patient.token, body: { room: 'audit-room' } });
  assert.equal(tok.status, 201);

  await t.test('entries carry actor, role, action, object, result and source', async () => {
    const logins = await audit(`actor=${w.patient2.id}&action=login`);
    assert.equal(logins.status, 200, logins.text);
    const failed = logins.json.items.find((e) => e.result === 'failed');
    assert.ok(failed, JSON.stringify(logins.json));
    assert.equal(failed.actor_role, 'patient');
    assert.equal(failed.source, '127.0.0.1');
    assert.ok(logins.json.items.some((e) => e.result === 'ok'));

    const reads = await audit(`patient=${w.patient.id}&action=patient.read`);
    const byDoctor = reads.json.items.find((e) => e.actor_id === w.doctor.id);
    assert.equal(byDoctor.result, 'ok');
    assert.equal(byDoctor.actor_role, 'doctor');
    assert.equal(byDoctor.object_type, 'patient');
    assert.equal(byDoctor.object_id, String(w.patient.id));
    assert.equal(byDoctor.source, '127.0.0.1');
    const denied = reads.json.items.find((e) => e.actor_id === w.patient2.id);
    assert.equal(denied?.result, 'denied', JSON.stringify(reads.json.items));

    const issued = await audit(`actor=${w.patient.id}&action=room_token.issue`);
    assert.equal(issued.json.items[0].object_id, 'audit-room');

    const admin = await audit(`actor=${w.admin.id}&action=doctor.verify`);
    assert.equal(admin.json.items.length, 2);
    const created = await audit(`action=user.create`);
    assert.equal(created.json.items.length, 5);
    assert.ok(created.json.items.every((e) => e.actor_id === w.admin.id && e.actor_role === 'admin'));
    const boot = await audit('action=user.bootstrap');
    assert.equal(boot.json.items[0].source, 'cli');
  });

  await t.test('time range and pagination', async () => {
    const all = await audit('limit=1000');
    const n = all.json.items.length;
    assert.ok(n > 20);
    assert.equal(all.json.next_cursor, null);
    const mid = all.json.items[Math.floor(n / 2)];
    const later = await audit(`since=${encodeURIComponent(mid.at)}&limit=1000`);
    assert.ok(later.json.items.every((e) => e.at_us >= mid.at_us));
    assert.ok(later.json.items.some((e) => e.id === mid.id));
    const before = await audit(`until=${encodeURIComponent(mid.at)}&limit=1000`);
    assert.ok(before.json.items.every((e) => e.at_us < mid.at_us));
    assert.equal((await audit('since=yesterday')).status, 400);

    const ids = [];
    let cursor = '';
    for (let i = 0; i < 100; i++) {
      const page = await audit(`limit=7&action=login${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...page.json.items.map((e) => e.id));
      if (!page.json.next_cursor) break;
      cursor = page.json.next_cursor;
    }
    const direct = (await audit('limit=1000&action=login')).json.items.map((e) => e.id);
    assert.deepEqual(ids, direct);
  });

  await t.test('export is JSON lines of the same entries', async () => {
    const res = await api(server, 'GET', `/audit/export?actor=${w.doctor.id}`, { token: w.auditor.token });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /application\/x-ndjson/);
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length > 3);
    assert.ok(lines.every((e) => e.actor_id === w.doctor.id && /^[0-9a-f]{64}$/.test(e.hash)));
    const csv = await api(server, 'GET', '/audit/export?format=csv&action=login', { token: w.auditor.token });
    assert.match(csv.headers['content-type'], /text\/csv/);
    assert.match(csv.text.split('\r\n')[0], /action/);
  });

  await t.test('room join and leave are audited', async () => {
    const c = await wsClient(server, h);
    c.send({ type: 'join', id: 1, token: tok.json.token });
    const joined = await c.reply(1, 'joined');
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    c.ws.close();
    await c.waitClosed();
    let items = [];
    for (let i = 0; i < 50; i++) {
      items = (await audit(`actor=${w.patient.id}&limit=1000`)).json.items.filter((e) => e.object_type === 'room');
      if (items.some((e) => e.action === 'room.leave')) break;
      await sleep(100);
    }
    const join = items.find((e) => e.action === 'room.join');
    assert.ok(join, JSON.stringify(items));
    assert.equal(join.object_id, 'audit-room');
    assert.equal(join.actor_role, 'patient');
    assert.ok(items.some((e) => e.action === 'room.leave'));
  });

  await t.test('the chain verifies, and a tampered row is named', async () => {
    const ok = await api(server, 'GET', '/audit/verify', { token: w.auditor.token });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.ok, true, JSON.stringify(ok.json));
    assert.equal(ok.json.first_broken_id, null);
    assert.ok(ok.json.checked > 20);
    assert.match(ok.json.head_hash, /^[0-9a-f]{64}$/);

    // The app role cannot rewrite history...
    await assert.rejects(cluster.sql("UPDATE audit SET result = 'ok' WHERE action = 'login'", 'app'));
    // ...the owner can, after disabling the guard trigger (docs/records.md).
    const [victim] = await cluster.sql(
      `SELECT id FROM audit WHERE action = 'login' AND result = 'failed' AND actor_id = ${w.patient2.id}`);
    await cluster.sql(`ALTER TABLE audit DISABLE TRIGGER audit_immutable;
      UPDATE audit SET result = 'ok' WHERE id = ${victim};
      ALTER TABLE audit ENABLE TRIGGER audit_immutable;`);
    const bad = await api(server, 'GET', '/audit/verify', { token: w.auditor.token });
    assert.equal(bad.status, 200);
    assert.equal(bad.json.ok, false);
    assert.equal(bad.json.first_broken_id, Number(victim));
    assert.ok(bad.json.reason);
  });

  await t.test('an auditor reads nothing clinical', async () => {
    assert.equal((await api(server, 'GET', `/patients/${w.patient.id}`, { token: w.auditor.token })).status, 403);
    assert.equal((await api(server, 'POST', '/auth/login', { body: { email: w.auditor.email, password: PASSWORD } })).status, 401);
  });
});
