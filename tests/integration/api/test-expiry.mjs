// test-expiry.mjs — idle session timeout: a session unused for
// session_idle_seconds (60, the smallest records allows) is refused, while
// one kept in use stays valid. A file of its own: it spends a minute waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, Cluster, createHarness, errorCode, login, PASSWORD, sleep, startServer, uniqueEmail } from './lib.mjs';

test('idle sessions expire', { timeout: 200000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster, { db: { session_idle_seconds: 60 } });

  const idle = { email: uniqueEmail('idle') };
  await api(server, 'POST', '/auth/register', { body: { email: idle.email, password: PASSWORD, display_name: 'Idle' } });
  await login(server, idle);
  const busy = { ...idle };
  await login(server, busy);

  // The busy session is used every 20 s, the idle one not at all.
  for (let i = 0; i < 3; i++) {
    await sleep(21000);
    assert.equal((await api(server, 'GET', '/me', { token: busy.token })).status, 200, `busy session, round ${i}`);
  }
  const res = await api(server, 'GET', '/me', { token: idle.token });
  assert.equal(res.status, 401);
  assert.equal(errorCode(res), 'unauthorized');
  assert.equal((await api(server, 'GET', '/me', { token: busy.token })).status, 200);
});
