// An auditor signs in (TOTP set-up first) and searches the audit trail on
// the account page: the logins and the room-token issue of a patient are
// there, filters by actor, action and time range narrow the list, pages
// turn, both exports download, and the chain verifies — until one row is
// changed directly in SQL, when the page names that record as the first
// broken one. Against a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHarness, waitFor, withTimeout } from './lib/harness.mjs';
import { openAccount, signIn, setUpTotp, apiBootstrapAdmin, apiCreateUser, apiRegister, apiLogin } from './lib/account.mjs';

const execFileP = promisify(execFile);

const rows = (page) => page.evaluate(() => [...document.querySelectorAll('#audit-table tbody tr')].map((tr) => ({
  id: Number(tr.dataset.id), action: tr.dataset.action, result: tr.dataset.result,
  cells: [...tr.children].map((c) => c.textContent), broken: tr.classList.contains('broken'),
})));

/** Submits the search form and waits for the table to reflect the new answer. */
async function search(page) {
  const before = await page.evaluate(() => document.getElementById('audit-summary').textContent + '|' +
    document.querySelector('#audit-table tbody').childElementCount);
  // Tell a re-render apart from the old table, even when the summary is the same.
  await page.evaluate(() => { document.getElementById('audit-summary').textContent = ''; });
  await page.click('#audit-search');
  await waitFor(page, () => document.getElementById('audit-summary').textContent !== '' &&
    !document.getElementById('audit-search').disabled, null, { what: `search results (before: ${before})` });
  return rows(page);
}

test('auditor: search, pages, export and chain verification in the UI', { timeout: 240000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ database: true });
  const admin = await apiBootstrapAdmin(server);
  const auditor = { email: 'audit@example.org', password: 'auditor-password-1' };
  await apiCreateUser(server, admin.token, { ...auditor, display_name: 'Qian Audit', role: 'auditor' });

  // What the auditor should find: a patient signs in and gets a room token.
  const patient = await apiRegister(server, { email: 'wang.fang@example.org', password: 'patient-password-1', name: 'Wang Fang' });
  const login = await apiLogin(server, 'wang.fang@example.org', 'patient-password-1');
  const tok = await server.api('POST', '/room-tokens', { token: login.token, body: { room: 'consult-7' } });
  assert.equal(tok.status, 201, JSON.stringify(tok.body));
  // Failed logins for nobody, so the trail runs to more than one page of 25.
  for (let i = 0; i < 30; i++)
    assert.equal((await server.api('POST', '/auth/login', { body: { email: `nobody${i}@example.org`, password: 'wrong-password-1' } })).status, 401);

  const browser = await h.launchChromium();
  const page = await h.chromiumPage(browser, 'auditor');
  await openAccount(page, server);
  assert.equal(await signIn(page, auditor.email, auditor.password), 'totp');
  await setUpTotp(page);
  await waitFor(page, () => !document.getElementById('audit-panel').hidden &&
    document.querySelectorAll('#audit-table tbody tr').length > 0, null, { what: 'audit panel with the first page' });
  assert.equal(await page.isVisible('#admin-panel'), false);
  assert.equal(await page.isVisible('#join-card'), false, 'auditors do not join calls');

  // Everything so far, oldest first: the bootstrap, the patient's login and token.
  let all = await rows(page);
  assert.equal(all[0].action, 'user.bootstrap');
  const pid = String(patient.id);
  const patientLogin = all.find((r) => r.action === 'login' && r.cells[2].startsWith(`No. ${pid} `));
  assert.ok(patientLogin, `patient login listed: ${JSON.stringify(all.slice(0, 12))}`);
  assert.equal(patientLogin.result, 'ok');
  assert.equal(patientLogin.cells[2], `No. ${pid} (patient)`);
  assert.equal(patientLogin.cells[7], '127.0.0.1');
  assert.ok(all.some((r) => r.action === 'login' && r.result === 'failed'), 'failed logins listed');
  assert.ok(all.some((r) => r.action === 'totp.enable'), 'the auditor\'s own TOTP set-up listed');

  // By actor and action: the one token issue, with its room.
  await page.fill('#audit-actor', pid);
  await page.selectOption('#audit-action', 'room_token.issue');
  const issued = await search(page);
  assert.equal(issued.length, 1, JSON.stringify(issued));
  assert.match(issued[0].cells[4], /consult-7/);
  assert.equal(issued[0].cells[2], `No. ${pid} (patient)`);

  // The patient's logins only.
  await page.selectOption('#audit-action', 'login');
  const logins = await search(page);
  assert.ok(logins.length >= 1 && logins.every((r) => r.action === 'login' && r.cells[2].startsWith(`No. ${pid} `)));

  // A time range: the future has nothing; since an hour ago has it all.
  const iso = (ms) => new Date(ms).toISOString().slice(0, 19); // datetime-local, read as UTC
  await page.fill('#audit-since', iso(Date.now() + 3600e3));
  assert.equal((await search(page)).length, 0);
  assert.equal(await page.textContent('#audit-summary'), 'No records match.');
  await page.fill('#audit-since', iso(Date.now() - 3600e3));
  await page.fill('#audit-until', iso(Date.now() + 3600e3));
  assert.deepEqual((await search(page)).map((r) => r.id), logins.map((r) => r.id));
  // An empty range is refused before asking the server.
  await page.fill('#audit-until', iso(Date.now() - 7200e3));
  await page.click('#audit-search');
  await waitFor(page, () => window.consiliumAccount.error === 'audit.error.range', null, { what: 'range error' });

  // Pages of 25 over everything.
  for (const id of ['#audit-actor', '#audit-since', '#audit-until']) await page.fill(id, '');
  await page.selectOption('#audit-action', '');
  await page.selectOption('#audit-limit', '25');
  const p1 = await search(page);
  assert.equal(p1.length, 25);
  assert.equal(await page.isDisabled('#audit-prev'), true);
  await page.click('#audit-next');
  await waitFor(page, () => document.getElementById('audit-page').textContent === 'Page 2', null, { what: 'page 2' });
  const p2 = await rows(page);
  assert.ok(p2.length > 0 && p2[0].id > p1.at(-1).id, 'page 2 continues after page 1');
  await page.click('#audit-prev');
  await waitFor(page, () => document.getElementById('audit-page').textContent === 'Page 1', null, { what: 'page 1 again' });
  assert.deepEqual((await rows(page)).map((r) => r.id), p1.map((r) => r.id));

  // Exports: JSON lines re-parse, CSV has its header.
  for (const [button, format] of [['#audit-export-jsonl', 'jsonl'], ['#audit-export-csv', 'csv']]) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), page.click(button)]);
    assert.match(download.suggestedFilename(), new RegExp(`^consilium-audit-\\d{8}T\\d{6}Z\\.${format}$`));
    const file = path.join(h.tempDir(), `export.${format}`);
    await download.saveAs(file);
    const text = fs.readFileSync(file, 'utf8');
    if (format === 'jsonl') {
      const entries = text.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(entries.length >= p1.length + p2.length);
      assert.ok(entries.some((e) => e.action === 'room_token.issue' && e.actor_id === patient.id && e.object_id === 'consult-7'));
    } else {
      assert.match(text.split(/\r?\n/)[0], /^id,at,/);
      assert.match(text, /room_token\.issue/);
    }
  }

  // The chain verifies...
  await page.click('#audit-verify');
  await waitFor(page, () => document.getElementById('verify-result').dataset.ok === 'true', null, { what: 'chain ok' });
  assert.match(await page.textContent('#verify-text'), /^The chain is intact: \d+ records checked\.$/);
  assert.match(await page.textContent('#verify-head'), /^[0-9a-f]{64}$/);

  // ...until someone with the database superuser's keys edits one row.
  const victim = p1[10].id;
  const sql = `ALTER TABLE audit DISABLE TRIGGER audit_immutable;
    UPDATE audit SET source = '203.0.113.66' WHERE id = ${victim};
    ALTER TABLE audit ENABLE TRIGGER audit_immutable;`;
  await withTimeout(execFileP('/usr/lib/postgresql/15/bin/psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', server.pgDir, '-p', '5432', '-U', 'postgres', '-d', 'consilium', '-c', sql]),
  20000, 'psql tamper');
  await page.click('#audit-verify');
  await waitFor(page, () => document.getElementById('verify-result').dataset.ok === 'false', null, { what: 'chain broken' });
  const text = await page.textContent('#verify-text');
  assert.match(text, new RegExp(`^The chain is broken at record no\\. ${victim} \\(.+\\); \\d+ records checked\\.$`));
  const marked = (await rows(page)).filter((r) => r.broken).map((r) => r.id);
  assert.deepEqual(marked, [victim], 'the broken record is marked in the table');
  assert.equal(await page.evaluate(() => window.consiliumAccount.error), null);
});
