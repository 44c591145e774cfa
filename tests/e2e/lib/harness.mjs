// harness.mjs — shared machinery of the end-to-end tests: a private
// consiliumd (temp dir, TLS cert, config, port read from its stdout), room
// tokens, headless Chromium (playwright-core) and Firefox (puppeteer-core),
// and in-page helpers. Everything started here is registered for cleanup,
// which runs even when the test fails, with a bounded time for every step.
//
// Environment: CONSILIUMD (path of the binary, required), CS_SOURCE_DIR
// (source root; defaults to this file's ../../..).

import { spawn, execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.CS_SOURCE_DIR || path.resolve(HERE, '../../..');
export const ARTIFACTS = path.join(SOURCE_DIR, 'tests/e2e/artifacts');

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  '--ignore-certificate-errors',
];

export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with "@what: timed out after @ms ms" unless @promise settles first. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Children still alive when node exits (test crash, runner timeout) are
// killed here; exit handlers must be synchronous, so only kill() is possible.
const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * One test's resources. Create with createHarness(t): cleanup is hooked to
 * t.after, runs in reverse order of registration and never throws.
 */
export class Harness {
  name;
  #cleanups = [];
  #logs = new Map(); // artifact file name -> array of lines
  failures = [];     // problems found during cleanup that must fail the test

  constructor(name) {
    this.name = name.replace(/[^A-Za-z0-9_.-]+/g, '-');
  }

  defer(what, fn) {
    this.#cleanups.push({ what, fn });
  }

  /** A log saved to tests/e2e/artifacts/<test>-<name>.log on close (for diagnosis). */
  log(name) {
    if (!this.#logs.has(name)) this.#logs.set(name, []);
    return this.#logs.get(name);
  }

  async close() {
    while (this.#cleanups.length) {
      const { what, fn } = this.#cleanups.pop();
      try {
        await withTimeout(Promise.resolve().then(fn), 15000, `cleanup: ${what}`);
      } catch (e) {
        console.error(`harness: ${e.message}`);
      }
    }
    try {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      for (const [name, lines] of this.#logs)
        fs.writeFileSync(path.join(ARTIFACTS, `${this.name}-${name}.log`), lines.join('\n') + '\n');
    } catch (e) {
      console.error(`harness: saving logs: ${e.message}`);
    }
    // E.g. consiliumd reporting a leak or a sanitizer error at shutdown.
    if (this.failures.length) throw new Error(this.failures.join('\n'));
  }

  /** A fresh temp dir, removed on close. */
  tempDir() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-e2e-'));
    this.defer(`rm ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts a private consiliumd; see Server. */
  async startServer(opts = {}) {
    const server = new Server(this, opts);
    await server.start();
    return server;
  }

  async launchChromium() {
    const { chromium } = await import('playwright-core');
    const browser = await withTimeout(
      chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 30000 }),
      40000, 'launch chromium');
    this.defer('close chromium', () => withTimeout(browser.close(), 10000, 'chromium close'));
    return browser;
  }

  /** A page in its own context (own storage, own fake devices); @label names its console log. */
  async chromiumPage(browser, label, { locale = 'en-US', viewport = { width: 1280, height: 720 } } = {}) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale, viewport });
    this.defer(`close context ${label}`, () => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    this.#captureConsole(page, label);
    page.label = label;
    return page;
  }

  async launchFirefox() {
    const puppeteer = (await import('puppeteer-core')).default;
    const browser = await withTimeout(puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      acceptInsecureCerts: true,
      extraPrefsFirefox: FIREFOX_PREFS,
      protocolTimeout: 30000,
      timeout: 30000,
    }), 40000, 'launch firefox');
    const proc = browser.process();
    if (proc) liveChildren.add(proc);
    this.defer('close firefox', async () => {
      try {
        await withTimeout(browser.close(), 10000, 'firefox close');
      } finally {
        if (proc && proc.exitCode === null) proc.kill('SIGKILL');
        if (proc) liveChildren.delete(proc);
      }
    });
    return browser;
  }

  async firefoxPage(browser, label) {
    const page = await browser.newPage();
    page.setDefaultTimeout(20000);
    this.#captureConsole(page, label);
    page.label = label;
    return page;
  }

  #captureConsole(page, label) {
    const lines = this.log(`page-${label}`);
    page.on('console', (m) => lines.push(`[${typeof m.type === 'function' ? m.type() : m.type}] ${m.text()}`));
    page.on('pageerror', (e) => lines.push(`[pageerror] ${e?.stack || e}`));
  }
}

/** A Harness whose cleanup is tied to the node:test context @t. */
export function createHarness(t) {
  const h = new Harness(t.name);
  t.after(() => h.close());
  return h;
}

/** A consiliumd child process with its own config, cert and secret. */
export class Server {
  #h;
  #opts;
  #child = null;
  #log;
  dir;
  confPath;
  secretHex;
  port = 0;
  url;
  wsUrl;

  constructor(h, opts) {
    this.#h = h;
    this.#opts = opts;
    this.#log = h.log('consiliumd');
  }

  static binary() {
    const bin = process.env.CONSILIUMD;
    if (!bin) throw new Error('CONSILIUMD is not set (path of the consiliumd binary)');
    return bin;
  }

  async start() {
    // Tests restarting consiliumd on the same configuration reuse the dir.
    this.dir = this.#opts.dir ?? this.#h.tempDir();
    await withTimeout(execFileP(path.join(SOURCE_DIR, 'scripts/tls.sh'), [path.join(this.dir, 'tls')]), 20000, 'tls.sh');
    this.secretHex = this.#opts.secretHex ?? randomBytes(32).toString('hex');
    // A random media port range, so parallel runs by others rarely collide.
    const base = 20000 + 100 * Math.floor(Math.random() * 350);
    const conf = [
      '[server]',
      'listen_address=127.0.0.1',
      'port=0',
      `tls_cert=${this.dir}/tls/cert.pem`,
      `tls_key=${this.dir}/tls/key.pem`,
      `web_root=${SOURCE_DIR}/clients/web`,
      'log_format=text',
      '',
      '[auth]',
      `token_secret=${this.secretHex}`,
      '',
      '[media]',
      'workers=0',
      'bind_address=127.0.0.1',
      `port_min=${base}`,
      `port_max=${base + 99}`,
      'max_video_bitrate=2500000',
      `max_participants=${this.#opts.maxParticipants ?? 16}`,
      '',
      // Further sections (e.g. [database]) for tests that need them.
      this.#opts.extraConfig ?? '',
      ...(this.#opts.database ? await this.#startDatabase(this.#opts.database) : []),
    ].join('\n');
    this.confPath = path.join(this.dir, 'consilium.conf');
    fs.writeFileSync(this.confPath, conf, { mode: 0o600 });

    const child = spawn(Server.binary(), ['--config', this.confPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, G_MESSAGES_DEBUG: this.#opts.debugDomains ?? process.env.G_MESSAGES_DEBUG ?? '' },
    });
    this.#child = child;
    liveChildren.add(child);
    this.#h.defer('stop consiliumd', () => this.stop());

    const listening = new Promise((resolve, reject) => {
      const onLine = (line) => {
        this.#log.push(line);
        const m = /consiliumd: listening on https:\/\/([^/\s]+):(\d+)\//.exec(line);
        if (m) resolve(Number(m[2]));
      };
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream.setEncoding('utf8');
        stream.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            onLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
      }
      child.on('exit', (code, signal) => {
        this.#log.push(`-- consiliumd exited: code ${code} signal ${signal}`);
        reject(new Error(`consiliumd exited before listening (code ${code}, signal ${signal}):\n${this.#log.slice(-30).join('\n')}`));
      });
    });
    this.port = await withTimeout(listening, 15000, 'consiliumd listening line');
    this.url = `https://127.0.0.1:${this.port}`;
    this.wsUrl = `wss://127.0.0.1:${this.port}/ws`;
  }

  /**
   * Starts a private PostgreSQL cluster (scripts/pg.sh, in its own temp dir:
   * pg.sh hands the folder to the cluster's system user, so it cannot sit in
   * our private one) and returns the [database] config lines. @extra adds or
   * overrides keys (e.g. { max_failed_logins: 3 }). The cluster is destroyed
   * on close, after the server has stopped (cleanups run in reverse order).
   */
  async #startDatabase(extra) {
    const pgsh = path.join(SOURCE_DIR, 'scripts/pg.sh');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-e2e-pg-'));
    this.pgDir = dir;
    const env = { ...process.env, CS_PG_FAST: '1' }; // throwaway: no fsync
    this.#h.defer(`pg.sh destroy ${dir}`, async () => {
      try {
        await withTimeout(execFileP(pgsh, ['destroy', dir], { env }), 60000, 'pg.sh destroy');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    try {
      await withTimeout(execFileP(pgsh, ['start', dir], { env }), 90000, 'pg.sh start');
    } catch (e) {
      throw new Error(`pg.sh start failed: ${e.stderr || e.message}`);
    }
    const url = async (role) => (await execFileP(pgsh, ['url', dir, role])).stdout.trim();
    const keys = {
      database_url: await url('app'),
      database_owner_url: await url('owner'),
      totp_key: randomBytes(32).toString('hex'),
      // Cheap hashes: the tests log in many times on two shared cores.
      argon2_t_cost: 1,
      argon2_m_cost_kib: 1024,
      ...(typeof extra === 'object' ? extra : {}),
    };
    return ['[database]', ...Object.entries(keys).map(([k, v]) => `${k}=${v}`), ''];
  }

  /** Bootstraps an admin account with `consiliumd --create-admin` (docs/api.md). */
  async createAdmin({ email, password, name = 'Admin' }) {
    const child = execFile(Server.binary(), ['--config', this.confPath, '--create-admin', '--email', email, '--name', name]);
    const out = [];
    child.stdout.on('data', (d) => out.push(String(d)));
    child.stderr.on('data', (d) => out.push(String(d)));
    child.stdin.end(`${password}\n`);
    const code = await withTimeout(new Promise((r) => child.on('exit', r)), 30000, 'consiliumd --create-admin');
    this.#log.push(`-- create-admin: exit ${code}: ${out.join('').trim()}`);
    if (code !== 0) throw new Error(`consiliumd --create-admin exited ${code}: ${out.join('')}`);
  }

  /** A REST call (docs/api.md) from node; resolves {status, headers, body (parsed JSON, or text)}. */
  async api(method, pathname, { body, token } = {}) {
    const https = await import('node:https');
    const data = body === undefined ? null : JSON.stringify(body);
    const headers = {};
    if (data !== null) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    return withTimeout(new Promise((resolve, reject) => {
      const req = https.request(`${this.url}/api/v1${pathname}`, { method, headers, rejectUnauthorized: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(data ?? undefined);
    }), 20000, `${method} ${pathname}`);
  }

  get alive() {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last @n lines of the server's output. */
  tail(n = 40) {
    return this.#log.slice(-n).join('\n');
  }

  async stop() {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      let result;
      try {
        result = await withTimeout(exited, 15000, 'consiliumd SIGTERM');
      } catch {
        child.kill('SIGKILL');
        await withTimeout(exited, 5000, 'consiliumd SIGKILL');
        this.#h.failures.push('consiliumd did not stop on SIGTERM within 15 s');
      }
      // A clean shutdown exits 0; ASan/LSan findings make it exit non-zero.
      if (result && (result.code !== 0 || result.signal))
        this.#h.failures.push(`consiliumd exited with code ${result.code} signal ${result.signal} on SIGTERM:\n` +
          this.#log.slice(-40).join('\n'));
    }
    liveChildren.delete(child);
  }

  /** Mints a room token with the server's own CLI. */
  async mint({ room, user, name, role = 'patient', ttl = 600 }) {
    const { stdout } = await withTimeout(execFileP(Server.binary(), [
      '--config', this.confPath, '--mint-token', '--room', room, '--user', user,
      '--name', name, '--role', role, '--ttl', String(ttl),
    ]), 15000, 'mint token');
    const token = stdout.trim().split('\n').pop().trim();
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new Error(`--mint-token printed no JWT: ${stdout}`);
    return token;
  }

  /** The HMAC key the server signs with: the config's hex secret decoded, or
   *  its text, whichever verifies a token the server minted. */
  async tokenKey() {
    const token = await this.mint({ room: 'keyprobe', user: 'probe', name: 'Probe' });
    const [h, p, sig] = token.split('.');
    for (const key of [Buffer.from(this.secretHex, 'hex'), Buffer.from(this.secretHex, 'utf8')])
      if (createHmac('sha256', key).update(`${h}.${p}`).digest('base64url') === sig) return key;
    throw new Error('no candidate key verifies a minted token');
  }

  async get(pathname) {
    const https = await import('node:https');
    return withTimeout(new Promise((resolve, reject) => {
      const req = https.get(`${this.url}${pathname}`, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
    }), 10000, `GET ${pathname}`);
  }
}

/** Signs a JWT (HS256) over @claims with @key: for forged and expired tokens. */
export function signToken(claims, key, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

// ------------------------------------------------------------------ pages
// These work on both a playwright (Chromium) and a puppeteer (Firefox) page:
// they only use goto, click and evaluate(fn, arg).

/** Polls @fn(arg) in the page until it returns a truthy value; returns it. */
export async function waitFor(page, fn, arg, { timeout = 20000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await withTimeout(page.evaluate(fn, arg), Math.max(1000, deadline - Date.now()), what);
      if (last) return last;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
    }
    if (Date.now() >= deadline) throw new Error(`${page.label ?? 'page'}: ${what}: timed out after ${timeout} ms (last: ${JSON.stringify(last)})`);
    await sleep(interval);
  }
}

/** Opens the client with @token and waits until the join button can be pressed. */
export async function openJoinScreen(page, server, token) {
  await withTimeout(page.goto(`${server.url}/?token=${encodeURIComponent(token)}`), 20000, 'goto');
  await waitFor(page, () => {
    const b = document.getElementById('join-button');
    return !!b && !b.disabled && !b.closest('[hidden]');
  }, null, { what: 'join button enabled' });
}

/** Opens the client, presses Join and waits for `joined`. */
export async function joinCall(page, server, token) {
  await openJoinScreen(page, server, token);
  await page.click('#join-button');
  await waitFor(page, () => window.consilium.joined && window.consilium.participantId, null, {
    what: 'joined',
  });
  return page.evaluate(() => window.consilium.participantId);
}

/** In-page: inbound-rtp figures per remote participant, from pc.getStats().
 *  Matched to a participant by mid or track id; of several inbound-rtp for one
 *  slot (a rebound slot keeps its old SSRC's entry) the freshest counts. */
export async function remoteStats(page) {
  return page.evaluate(async () => {
    const c = window.consilium;
    const pc = c.pc;
    const out = {};
    if (!pc) return out;
    const report = await pc.getStats();
    const inbound = [...report.values()].filter((s) => s.type === 'inbound-rtp');
    for (const p of c.remoteParticipants) {
      const entry = { name: p.name };
      for (const kind of ['audio', 'video']) {
        const mid = p.mids[kind];
        const trackId = p.trackIds[kind];
        const cands = inbound.filter((s) => s.kind === kind &&
          ((mid != null && s.mid === mid) || (trackId && s.trackIdentifier === trackId)));
        cands.sort((a, b) => (b.lastPacketReceivedTimestamp ?? 0) - (a.lastPacketReceivedTimestamp ?? 0));
        const s = cands[0];
        entry[kind] = s ? {
          ssrc: s.ssrc,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
          framesDecoded: s.framesDecoded ?? null,
          totalAudioEnergy: s.totalAudioEnergy ?? null,
          audioLevel: s.audioLevel ?? null,
        } : null;
      }
      out[p.id] = entry;
    }
    return out;
  });
}

/** Waits until every participant in @ids has @pred(entry) true in remoteStats. */
export async function waitForRemote(page, ids, pred, { timeout = 30000, what = 'remote media' } = {}) {
  const deadline = Date.now() + timeout;
  let stats;
  for (;;) {
    stats = await remoteStats(page);
    if (ids.every((id) => stats[id] && pred(stats[id]))) return stats;
    if (Date.now() >= deadline)
      throw new Error(`${page.label ?? 'page'}: ${what}: timed out after ${timeout} ms; stats ${JSON.stringify(stats)}`);
    await sleep(250);
  }
}

/** Asserts that video keeps being decoded for every id: framesDecoded grows over @ms. */
export async function assertVideoFlows(page, ids, ms = 2000) {
  const a = await remoteStats(page);
  await sleep(ms);
  const b = await remoteStats(page);
  const stalled = ids.filter((id) => !(a[id]?.video && b[id]?.video && b[id].video.framesDecoded > a[id].video.framesDecoded));
  if (stalled.length)
    throw new Error(`${page.label ?? 'page'}: video stalled for ${stalled.join(', ')}: before ${JSON.stringify(a)} after ${JSON.stringify(b)}`);
  return b;
}

/** Asserts that audio keeps arriving for every id over @ms: packetsReceived
 *  grows and, where the browser reports it (@energy), so does totalAudioEnergy. */
export async function assertAudioFlows(page, ids, ms = 2000, { energy = true } = {}) {
  const a = await remoteStats(page);
  await sleep(ms);
  const b = await remoteStats(page);
  const stalled = ids.filter((id) => {
    const x = a[id]?.audio, y = b[id]?.audio;
    if (!x || !y || !(y.packetsReceived > x.packetsReceived)) return true;
    return energy && !(y.totalAudioEnergy > x.totalAudioEnergy);
  });
  if (stalled.length)
    throw new Error(`${page.label ?? 'page'}: audio stalled for ${stalled.join(', ')}: before ${JSON.stringify(a)} after ${JSON.stringify(b)}`);
  return b;
}

/** A raw signaling client (node ws) that records every message. */
export async function wsClient(server, h) {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(server.wsUrl, 'consilium-v1', { rejectUnauthorized: false, handshakeTimeout: 10000 });
  const inbox = [];
  const waiters = [];
  let closed = null;
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      const idx = inbox.findIndex(w.pred);
      if (idx >= 0) {
        waiters.splice(i--, 1);
        clearTimeout(w.timer);
        w.resolve(inbox.splice(idx, 1)[0]);
      }
    }
  };
  ws.on('message', (data, isBinary) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      msg = { type: '<unparsable>', raw: data.toString() };
    }
    inbox.push(msg);
    deliver();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`socket closed (${code}) while waiting for ${w.what}`));
    }
  });
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 10000, 'ws open');
  h.defer('close ws client', () => ws.terminate());

  return {
    ws,
    get closed() { return closed; },
    get protocol() { return ws.protocol; },
    send(obj) { ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); },
    /** Resolves with the first (queued or future) message matching @pred. */
    next(pred, what = 'message', timeout = 10000) {
      return new Promise((resolve, reject) => {
        const w = { pred, resolve, reject, what, timer: null };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(inbox)}`));
        }, timeout);
        waiters.push(w);
        deliver();
        if (closed && waiters.includes(w)) {
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          reject(new Error(`socket closed (${closed.code}) before ${what}`));
        }
      });
    },
    reply(id, what) {
      return this.next((m) => m.id === id, what ?? `reply to id ${id}`);
    },
    waitClosed(timeout = 5000) {
      if (closed) return Promise.resolve(closed);
      return withTimeout(new Promise((r) => ws.once('close', (code) => r({ code }))), timeout, 'ws close');
    },
  };
}

// ------------------------------------------------------------------ TOTP

/** RFC 4648 base32 to bytes (spaces and padding ignored). */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of text.toUpperCase().replace(/[\s=]/g, '')) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit RFC 6238 code (HMAC-SHA1, 30 s steps) of @key for time step @step. */
export function totpCode(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/**
 * An authenticator app for one account. The server accepts the steps next
 * to the current one but each step once only (docs/records.md), so code()
 * hands out a step above the last one used, waiting for the clock when that
 * would be more than one step ahead.
 */
export class Authenticator {
  #key;
  #last = -Infinity;

  constructor(secret) {
    this.#key = base32Decode(secret);
  }

  async code() {
    for (;;) {
      const now = Math.floor(Date.now() / 30000);
      const step = Math.max(now, this.#last + 1);
      if (step <= now + 1) {
        this.#last = step;
        return totpCode(this.#key, step);
      }
      await sleep((now + 1) * 30000 - Date.now() + 250);
    }
  }
}
