// test-outage.mjs — the database goes away: the API answers 503
// unavailable, /healthz stays ok and WebSocket joins keep working (also with
// a token from the API, whose join audit then fails quietly); when the
// database returns the API recovers without restarting consiliumd.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { wsClient } from '../../e2e/lib/harness.mjs';
import { api, Cluster, createHarness, errorCode, login, PASSWORD, sleep, startServer, uniqueEmail } from './lib.mjs';

async function joins(server, h, token, id) {
  const c = await wsClient(server, h);
  c.send({ type: 'join', id, token });
  const reply = await c.reply(id, `join ${id}`);
  c.ws.close();
  return reply;
}

test('database outage', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);

  const acct = { email: uniqueEmail('out') };
  assert.equal((await api(server, 'POST', '/auth/register', {
    body: { email: acct.email, password: PASSWORD, display_name: 'Out' },
  })).status, 201);
  await login(server, acct);
  const roomToken = (await api(server, 'POST', '/room-tokens', { token: acct.token, body: { room: 'outage' } })).json.token;
  assert.ok(roomToken);

  await cluster.stop();

  await t.test('the API answers 503 while the database is down', async () => {
    for (const [method, p, opts] of [
      ['GET', '/me', { token: acct.token }],
      ['POST', '/auth/login', { body: { email: acct.email, password: PASSWORD } }],
      ['GET', '/institutions', { token: acct.token }],
    ]) {
      const res = await api(server, method, p, opts);
      assert.equal(res.status, 503, `${method} ${p}: ${res.text}`);
      assert.equal(errorCode(res), 'unavailable');
    }
    // Requests that never reach the database still get their own answer.
    assert.equal((await api(server, 'GET', '/nope')).status, 404);
    assert.equal((await api(server, 'POST', '/auth/login', { body: '{' })).status, 400);
  });

  await t.test('health and calls are unaffected', async () => {
    const health = await server.get('/healthz');
    assert.equal(health.status, 200);
    const minted = await server.mint({ room: 'outage', user: 'guest1', name: 'Guest' });
    assert.equal((await joins(server, h, minted, 1)).type, 'joined');
    // A numeric sub is audited on join; that fails now, the join does not.
    assert.equal((await joins(server, h, roomToken, 2)).type, 'joined');
  });

  await cluster.start();

  await t.test('the API recovers by itself', async () => {
    let res;
    for (let i = 0; i < 100; i++) {
      res = await api(server, 'POST', '/auth/login', { body: { email: acct.email, password: PASSWORD } });
      if (res.status !== 503) break;
      await sleep(200);
    }
    assert.equal(res.status, 200, res.text);
    assert.equal((await api(server, 'GET', '/me', { token: res.json.token })).status, 200);
  });
  assert.ok(server.alive);
});
