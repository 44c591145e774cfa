// lib.mjs — shared machinery of the REST API integration tests: a private
// PostgreSQL cluster per test file (scripts/pg.sh), a consiliumd wired to it
// (tests/e2e/lib/harness.mjs's Server with a [database] section), a small
// HTTPS JSON client, RFC 6238 TOTP codes, and a "world" of one account per
// role for the role matrix.
//
// Environment: CONSILIUMD, CS_SOURCE_DIR (as for the e2e tests).

import { execFile, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { createHarness, Server, SOURCE_DIR, sleep, withTimeout } from '../../e2e/lib/harness.mjs';

export { createHarness, sleep, withTimeout, SOURCE_DIR };
const execFileP = promisify(execFile);
const PG_SH = path.join(SOURCE_DIR, 'scripts/pg.sh');
const PSQL = '/usr/lib/postgresql/15/bin/psql';

/** A private cluster in a temp dir, destroyed by the harness cleanup. */
export class Cluster {
  dir;

  static async create(h) {
    const c = new Cluster();
    // pg.sh drops to the 'consilium' user when run as root: it must be able
    // to traverse the parent.
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-api-pg-'));
    fs.chmodSync(parent, 0o755);
    c.dir = path.join(parent, 'pg');
    h.defer(`destroy cluster ${c.dir}`, async () => {
      await c.#pg('destroy').catch((e) => console.error(e.message));
      fs.rmSync(parent, { recursive: true, force: true });
    });
    await c.start();
    return c;
  }

  #pg(cmd, ...args) {
    return withTimeout(execFileP(PG_SH, [cmd, this.dir, ...args], {
      env: { ...process.env, CS_PG_FAST: '1' },
    }), 90000, `pg.sh ${cmd}`);
  }

  async start() { await this.#pg('start'); }
  async stop() { await this.#pg('stop'); }

  url(role) {
    return `host=${this.dir} port=5432 dbname=consilium user=${role === 'owner' ? 'consilium_owner' : role === 'admin' ? 'postgres' : 'consilium_app'}`;
  }

  /** Runs @sql through psql as @role (owner by default); returns stdout rows. */
  async sql(sql, role = 'owner') {
    const user = role === 'owner' ? 'consilium_owner' : role === 'admin' ? 'postgres' : 'consilium_app';
    const { stdout } = await withTimeout(execFileP(PSQL, [
      '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.dir, '-p', '5432', '-U', user,
      '-d', 'consilium', '-c', sql,
    ]), 30000, 'psql');
    return stdout.trim().split('\n').filter((l) => l.length);
  }

  /** The [database] section for consiliumd; @extra overrides keys. */
  config(extra = {}) {
    const keys = {
      database_url: this.url('app'),
      database_owner_url: this.url('owner'),
      totp_key: this.totpKey ??= randomBytes(32).toString('hex'),
      // Cheap hashing: the tests log in often; the cost is not under test.
      argon2_t_cost: 1,
      argon2_m_cost_kib: 1024,
      ...extra,
    };
    return ['[database]', ...Object.entries(keys).map(([k, v]) => `${k}=${v}`), ''].join('\n');
  }
}

/** Starts consiliumd on @cluster; @db overrides [database] keys. */
export async function startServer(h, cluster, { db = {}, ...opts } = {}) {
  const server = new Server(h, { extraConfig: cluster.config(db), debugDomains: 'cs-signaling', ...opts });
  await server.start();
  return server;
}

/** One HTTPS request. @body: object (sent as JSON), string or Buffer (sent
 *  as is). Returns { status, headers, text, json }. */
export function request(server, method, pathname, { token, body, headers = {} } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    let data = null;
    const h = { ...headers };
    if (body !== undefined) {
      data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
        h['content-type'] = 'application/json';
      // As browsers do; the server refuses chunked bodies (411).
      if (!('content-length' in h)) h['content-length'] = Buffer.byteLength(data);
    }
    if (token) h.authorization = `Bearer ${token}`;
    const req = https.request(`${server.url}${pathname}`, {
      method, headers: h, rejectUnauthorized: false, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (data !== null) req.write(data);
    req.end();
  }), 20000, `${method} ${pathname}`);
}

/** request() under /api/v1. */
export const api = (server, method, p, opts) => request(server, method, `/api/v1${p}`, opts);

/** Asserts the one error shape and returns the code. */
export function errorCode(res) {
  const e = res.json?.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || Object.keys(res.json).length !== 1)
    throw new Error(`not the error shape (status ${res.status}): ${res.text}`);
  return e.code;
}

// ---------------------------------------------------------------- TOTP

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) of @secret at time step @step. */
export function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(bin).padStart(6, '0');
}

const nowStep = () => Math.floor(Date.now() / 30000);

/** A fresh code for @acct (which remembers the last step used): the server
 *  accepts steps now-1..now+1, each once, so up to three logins need no
 *  waiting. Stays clear of step boundaries so the server agrees on "now". */
export async function nextCode(acct) {
  for (;;) {
    const inStep = Date.now() % 30000;
    if (inStep > 28500 || inStep < 1500) {
      await sleep(3000 - ((inStep + 1500) % 30000) + 100);
      continue;
    }
    const now = nowStep();
    const step = Math.max((acct.lastStep ?? -Infinity) + 1, now - 1);
    if (step <= now + 1) {
      acct.lastStep = step;
      return totp(acct.totpSecret, step);
    }
    await sleep(5000);
  }
}

// ---------------------------------------------------------------- accounts

export const PASSWORD = 'correct horse battery staple';

/** consiliumd --create-admin; resolves { code, stdout, stderr }. */
export function createAdminCli(server, email, password = PASSWORD) {
  return withTimeout(new Promise((resolve, reject) => {
    const child = spawn(Server.binary(), ['--config', server.confPath, '--create-admin', '--email', email,
      '--name', 'First Admin'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(`${password}\n`);
  }), 30000, 'create-admin');
}

async function ok(resPromise, status, what) {
  const res = await resPromise;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${res.text}`);
  return res.json;
}

/** Logs @acct in (TOTP code when enrolled); sets acct.token. */
export async function login(server, acct) {
  const body = { email: acct.email, password: acct.password ?? PASSWORD };
  if (acct.totpSecret) body.totp_code = await nextCode(acct);
  const j = await ok(api(server, 'POST', '/auth/login', { body }), 200, `login ${acct.email}`);
  acct.token = j.token;
  acct.id = j.user.id;
  return j;
}

/** First login of a staff account: enrols TOTP, then logs in with a code. */
export async function enrolStaff(server, acct) {
  const first = await login(server, acct);
  if (!first.totp_setup_required) throw new Error(`${acct.email}: staff session without totp_setup_required`);
  const setup = await ok(api(server, 'POST', '/me/totp', { token: acct.token }), 200, 'totp begin');
  acct.totpSecret = setup.secret;
  await ok(api(server, 'POST', '/me/totp/confirm', { token: acct.token, body: { code: await nextCode(acct) } }),
    204, 'totp confirm');
  await login(server, acct);
  return acct;
}

let serial = 0;
export const uniqueEmail = (tag) => `${tag}.${process.pid}.${Date.now()}.${serial++}@example.org`;

/**
 * One account per role: admin (from --create-admin), an institution, a
 * verified doctor, an unverified doctor, a verified specialist, clinic
 * staff, an auditor and two patients; doctor has a care relationship with
 * patient. Every account is logged in (acct.token).
 */
export async function makeWorld(server) {
  const w = {};
  w.admin = { email: uniqueEmail('admin') };
  const cli = await createAdminCli(server, w.admin.email);
  if (cli.code !== 0) throw new Error(`create-admin failed: ${cli.stderr}`);
  await enrolStaff(server, w.admin);

  const inst = await ok(api(server, 'POST', '/institutions', {
    token: w.admin.token, body: { name: 'Primary Clinic 1', kind: 'primary_clinic' },
  }), 201, 'institution');
  w.institution = inst.institution;

  const staff = [
    ['doctor', 'doctor'], ['doctorU', 'doctor'], ['specialist', 'specialist'],
    ['clinic', 'clinic_staff'], ['auditor', 'auditor'],
  ];
  for (const [key, role] of staff) {
    const acct = { email: uniqueEmail(key), role };
    const body = { email: acct.email, password: PASSWORD, display_name: `The ${key}`, role };
    if (role === 'clinic_staff') body.institution_id = w.institution.id;
    const j = await ok(api(server, 'POST', '/admin/users', { token: w.admin.token, body }), 201, `create ${key}`);
    acct.id = j.user.id;
    w[key] = acct;
  }
  await Promise.all(staff.map(([key]) => enrolStaff(server, w[key])));

  for (const key of ['doctor', 'doctorU', 'specialist'])
    await ok(api(server, 'PUT', `/doctors/${w[key].id}/profile`, {
      token: w[key].token, body: { licence_number: `LIC-${key}-${w[key].id}`, specialty: 'cardiology' },
    }), 200, `profile ${key}`);
  for (const key of ['doctor', 'specialist'])
    await ok(api(server, 'POST', `/doctors/${w[key].id}/verify`, {
      token: w.admin.token, body: { verdict: 'verified' },
    }), 200, `verify ${key}`);

  for (const key of ['patient', 'patient2']) {
    const acct = { email: uniqueEmail(key), role: 'patient' };
    await ok(api(server, 'POST', '/auth/register', {
      body: { email: acct.email, password: PASSWORD, display_name: `The ${key}` },
    }), 201, `register ${key}`);
    await login(server, acct);
    w[key] = acct;
  }
  await ok(api(server, 'POST', `/doctors/${w.doctor.id}/patients/${w.patient.id}`, { token: w.clinic.token }),
    204, 'care grant');
  return w;
}
