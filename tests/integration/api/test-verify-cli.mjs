// test-verify-cli.mjs — consiliumd --verify-audit: "ok" with the record
// count and head hash on an intact chain, exit 1 naming the record after
// one row is tampered with directly in SQL, exit 2 without a database and
// exit 1 with a clear message when the database is down.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';

import { Server } from '../../e2e/lib/harness.mjs';
import {
  api, Cluster, createAdminCli, createHarness, login, PASSWORD, startServer, uniqueEmail, withTimeout,
} from './lib.mjs';

/** Runs the command; resolves { code, stdout, stderr }. */
const verifyCli = (server) => withTimeout(new Promise((resolve) => {
  execFile(Server.binary(), ['--config', server.confPath, '--verify-audit'], (err, stdout, stderr) =>
    resolve({ code: err ? err.code : 0, stdout, stderr }));
}), 30000, 'verify-audit');

test('consiliumd --verify-audit', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);

  // Some activity: the bootstrap admin, a registration, logins good and bad.
  assert.equal((await createAdminCli(server, uniqueEmail('admin'))).code, 0);
  const patient = { email: uniqueEmail('patient') };
  assert.equal((await api(server, 'POST', '/auth/register', {
    body: { email: patient.email, password: PASSWORD, display_name: 'P' },
  })).status, 201);
  await login(server, patient);
  assert.equal((await api(server, 'POST', '/auth/login', {
    body: { email: patient.email, password: 'not the password' },
  })).status, 401);

  await t.test('an intact chain: count and head', async () => {
    const [count] = await cluster.sql('SELECT count(*) FROM audit');
    const [head] = await cluster.sql("SELECT encode(hash, 'hex') FROM audit ORDER BY id DESC LIMIT 1");
    const res = await verifyCli(server);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `audit chain ok: ${count} records, head ${head}\n`);
  });

  await t.test('a row changed in SQL is named', async () => {
    const [victim] = await cluster.sql(
      "SELECT id FROM audit WHERE action = 'login' AND result = 'failed' ORDER BY id LIMIT 1");
    await cluster.sql(`ALTER TABLE audit DISABLE TRIGGER audit_immutable;
      UPDATE audit SET result = 'ok' WHERE id = ${victim};
      ALTER TABLE audit ENABLE TRIGGER audit_immutable;`);
    const res = await verifyCli(server);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`^audit chain broken at record ${victim}: .+\n$`));
  });

  await t.test('no [database]: usage error', async () => {
    const bare = await startServer(h, { config: () => '' });
    const res = await verifyCli(bare);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /needs \[database\]/);
  });

  await t.test('database down: exit 1, said plainly', async () => {
    await cluster.stop();
    const res = await verifyCli(server);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /database unreachable/);
    assert.equal(res.stdout, '');
  });
});
