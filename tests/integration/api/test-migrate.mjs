// test-migrate.mjs — consiliumd applies the migrations at start on an empty
// database, and a second start on the same database changes nothing and
// keeps the data.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, Cluster, createHarness, login, PASSWORD, startServer, uniqueEmail } from './lib.mjs';

test('migrations at start, idempotent on restart', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  assert.deepEqual(await cluster.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), ['0']);

  const first = await startServer(h, cluster);
  const applied = await cluster.sql('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  assert.ok(applied.length >= 2, applied.join('\n'));
  assert.match(applied[0], /^1\|0001_accounts\|/);
  const acct = { email: uniqueEmail('keep') };
  assert.equal((await api(first, 'POST', '/auth/register', {
    body: { email: acct.email, password: PASSWORD, display_name: 'Keep' },
  })).status, 201);
  // Both servers write to the harness' one consiliumd log: count lines.
  const migratedLines = () => (first.tail(10000).match(/migrated to/g) ?? []).length;
  const migratedFirst = migratedLines();
  assert.ok(migratedFirst >= 2);
  await first.stop();

  const second = await startServer(h, cluster, { dir: first.dir, secretHex: first.secretHex });
  assert.deepEqual(await cluster.sql('SELECT version, name, checksum FROM schema_migrations ORDER BY version'), applied);
  assert.equal(migratedLines(), migratedFirst, 'nothing migrated the second time');
  await login(second, acct);
  assert.equal((await api(second, 'GET', '/me', { token: acct.token })).json.user.email, acct.email);

  // Without a database the API answers 503 and everything else runs.
  const bare = await startServer(h, { config: () => '' });
  const res = await api(bare, 'GET', '/me');
  assert.equal(res.status, 503);
  assert.equal((await bare.get('/healthz')).status, 200);
});
