// test-hostile.mjs — hostile input: SQL metacharacters and odd Unicode in
// every text field are stored and returned verbatim; oversized, malformed,
// ill-typed and odd requests get 4xx in the one error shape; the server
// stays up throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import https from 'node:https';
import tls from 'node:tls';

import {
  api, Cluster, createHarness, errorCode, login, makeWorld, PASSWORD, request, startServer, uniqueEmail,
} from './lib.mjs';

// Quotes, comments, statement breaks, backslashes, format strings, RTL
// override, zero-width joiner, combining marks, astral emoji, CJK.
const NASTY = [
  "Robert'); DROP TABLE users;--",
  '" OR 1=1 -- \\\\ %s %n $1 ${x}',
  '\u202eevil\u202c \u200d\u0301e\u0301 😀🏥 患者 王芳',
  "'; SELECT pg_sleep(10); --",
  '<script>alert(1)</script>',
];

test('hostile input', { timeout: 300000 }, async (t) => {
  const h = createHarness(t);
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster);
  const w = await makeWorld(server);

  await t.test('text fields are stored and returned verbatim', async () => {
    for (const [i, s] of NASTY.entries()) {
      // display name and password, through registration and login
      const acct = { email: uniqueEmail(`nasty${i}`), password: `${s} long enough` };
      const reg = await api(server, 'POST', '/auth/register', {
        body: { email: acct.email, password: acct.password, display_name: s },
      });
      assert.equal(reg.status, 201, reg.text);
      assert.equal(reg.json.user.display_name, s);
      await login(server, acct);
      const me = await api(server, 'GET', '/me', { token: acct.token });
      assert.equal(me.json.user.display_name, s);

      // institution name
      const inst = await api(server, 'POST', '/institutions', { token: w.admin.token, body: { name: s, kind: 'hospital' } });
      assert.equal(inst.status, 201, inst.text);
      assert.equal(inst.json.institution.name, s);

      // licence number and specialty
      const prof = await api(server, 'PUT', `/doctors/${w.doctorU.id}/profile`, {
        token: w.doctorU.token, body: { licence_number: `${s}#${i}`, specialty: s },
      });
      assert.equal(prof.status, 200, prof.text);
      const doc = await api(server, 'GET', `/doctors/${w.doctorU.id}`, { token: w.doctorU.token });
      assert.equal(doc.json.doctor.specialty, s);
      assert.equal(doc.json.doctor.licence_number, `${s}#${i}`);

      // audit search parameter: matches nothing, breaks nothing
      const q = await api(server, 'GET', `/audit?action=${encodeURIComponent(s)}`, { token: w.auditor.token });
      assert.equal(q.status, 200, q.text);
      assert.deepEqual(q.json.items, []);
    }
    // An email with quotes is just an address.
    const odd = { email: `o'brien+"x"${Date.now()}@example.org` };
    const r = await api(server, 'POST', '/auth/register', { body: { email: odd.email, password: PASSWORD, display_name: 'O' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.user.email, odd.email);
    await login(server, odd);

    const list = await api(server, 'GET', '/institutions?limit=100', { token: w.admin.token });
    for (const s of NASTY) assert.ok(list.json.items.some((i) => i.name === s), s);
    // The tables are all still there.
    assert.equal((await cluster.sql('SELECT count(*) FROM users'))[0] > 10, true);
  });

  await t.test('bad bodies get the error shape', async () => {
    const cases = [
      ['oversized', { body: `{"email":"${'a'.repeat(70000)}"}` }, 413, 'payload-too-large'],
      ['malformed', { body: '{"email": "a@b.c", ' }, 400, 'bad-json'],
      ['not JSON at all', { body: 'email=a@b.c&password=x' }, 400, 'bad-json'],
      ['deep nesting', { body: '['.repeat(60000) }, 400, 'bad-json'],
      ['invalid UTF-8', { body: Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, 400, 'bad-json'],
      ['an array', { body: '[1,2]' }, 400, 'bad-request'],
      ['wrong type', { body: { email: 42, password: PASSWORD } }, 400, 'bad-request'],
      ['null field', { body: { email: null, password: PASSWORD } }, 400, 'bad-request'],
      ['missing field', { body: { email: 'a@b.c' } }, 400, 'bad-request'],
      ['unknown field', { body: { email: 'a@b.c', password: PASSWORD, admin: true } }, 400, 'bad-request'],
      ['duplicate field', { body: '{"email":"a@b.c","email":"b@c.d","password":"0123456789"}' }, 400, 'bad-request'],
      ['NUL in a string', { body: '{"email":"a\\u0000@b.c","password":"0123456789"}' }, 400, 'bad-request'],
      ['no content type', { body: '{}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported-media-type'],
      ['empty body', { body: '' }, 400, 'bad-json'],
    ];
    for (const [what, opts, status, code] of cases) {
      const res = await request(server, 'POST', '/api/v1/auth/login', opts);
      assert.equal(res.status, status, `${what}: ${res.text.slice(0, 200)}`);
      assert.equal(errorCode(res), code, what);
    }
    const wrongType = await api(server, 'POST', '/admin/users', {
      token: w.admin.token, body: { email: 'x@y.z', password: PASSWORD, display_name: 'X', role: 'doctor', institution_id: '3' },
    });
    assert.equal(wrongType.status, 400);
    const badRole = await api(server, 'POST', '/admin/users', {
      token: w.admin.token, body: { email: 'x@y.z', password: PASSWORD, display_name: 'X', role: 'root' },
    });
    assert.equal(errorCode(badRole), 'bad-request');
    const badRoom = await api(server, 'POST', '/room-tokens', { token: w.patient.token, body: { room: "x'; DROP" } });
    assert.equal(badRoom.status, 400);
    const badEmail = await api(server, 'POST', '/auth/register', { body: { email: 'no at sign', password: PASSWORD, display_name: 'X' } });
    assert.equal(errorCode(badEmail), 'bad-request');
  });

  await t.test('bad paths, methods and ids', async () => {
    const cases = [
      ['GET', '/api/v1/nope', 404, 'not-found'],
      ['GET', '/api/v1/', 404, 'not-found'],
      ['GET', `/api/v1/patients/0${w.patient.id}`, 404, 'not-found'],
      ['GET', '/api/v1/patients/-1', 404, 'not-found'],
      ['GET', '/api/v1/patients/1e3', 404, 'not-found'],
      ['GET', '/api/v1/patients/99999999999999999999', 404, 'not-found'],
      ['GET', `/api/v1/patients/${w.patient.id}/`, 404, 'not-found'],
      ['GET', "/api/v1/patients/1%27%20OR%201=1", 404, 'not-found'],
      ['DELETE', '/api/v1/me', 405, 'method-not-allowed'],
      ['PATCH', '/api/v1/institutions', 405, 'method-not-allowed'],
    ];
    for (const [method, p, status, code] of cases) {
      const res = await request(server, method, p, { token: w.patient.token });
      assert.equal(res.status, status, `${method} ${p}: ${res.text}`);
      assert.equal(errorCode(res), code);
    }
    const allow = await request(server, 'PUT', '/api/v1/institutions', { token: w.admin.token, body: {} });
    assert.equal(allow.headers.allow, 'GET, POST');
    for (const auth of ['Bearer', 'Basic YWJjOmRlZg==', `Bearer ${'x'.repeat(2000)}`, "Bearer ' OR '1'='1"]) {
      const res = await request(server, 'GET', '/api/v1/me', { headers: { authorization: auth } });
      assert.equal(res.status, 401, auth.slice(0, 30));
    }
    // Headers beyond libwebsockets' 4 KiB buffer: the connection is dropped.
    await assert.rejects(request(server, 'GET', '/api/v1/me', { headers: { authorization: `Bearer ${'x'.repeat(5000)}` } }));
  });

  await t.test('a body declared too large is refused before it is sent', async () => {
    const status = await new Promise((resolve, reject) => {
      const req = https.request(`${server.url}/api/v1/auth/login`, {
        method: 'POST', rejectUnauthorized: false, agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
      }, (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
      req.write('{');
    });
    assert.equal(status, 413);
  });

  await t.test('a chunked body is refused with 411', async () => {
    const res = await new Promise((resolve, reject) => {
      const req = https.request(`${server.url}/api/v1/auth/login`, {
        method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'content-type': 'application/json' },
      }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => resolve({ status: r.statusCode, text: b })); });
      req.on('error', reject);
      req.write('{"email":');
      req.end('"a@b.c","password":"0123456789"}');
    });
    assert.equal(res.status, 411);
    assert.equal(JSON.parse(res.text).error.code, 'length-required');
  });

  await t.test('a connection dropped mid-request leaves the server up', async () => {
    await new Promise((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
        sock.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"email":`);
        setTimeout(() => { sock.destroy(); resolve(); }, 100);
      });
      sock.on('error', resolve);
    });
    // A slow login (argon2) abandoned before its answer.
    await new Promise((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
        const body = JSON.stringify({ email: w.patient.email, password: PASSWORD });
        sock.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        setImmediate(() => { sock.destroy(); resolve(); });
      });
      sock.on('error', resolve);
    });
  });

  assert.ok(server.alive);
  const health = await server.get('/healthz');
  assert.equal(health.status, 200);
  assert.equal((await api(server, 'GET', '/me', { token: w.patient.token })).status, 200);
});
