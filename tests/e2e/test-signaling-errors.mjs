// The signaling protocol without a browser: a `ws` client against a private
// consiliumd checks every error path of docs/signaling.md end to end —
// bad JSON, unknown type, ill-typed fields, binary and oversized frames,
// not-joined/already-joined, room-full, forbidden (observer), bad-state and
// invalid-sdp offers, forged/expired tokens — plus the room broadcasts,
// the HTTP endpoints, and that the connection survives every error except
// the token ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, wsClient, signToken } from './lib/harness.mjs';

async function connect(server, h) {
  const c = await wsClient(server, h);
  assert.equal(c.protocol, 'consilium-v1');
  let n = 0;
  c.request = async (msg, what = msg.type) => {
    const id = `r${++n}`;
    c.send({ ...msg, id });
    return c.next((m) => m.id === id, what);
  };
  c.alive = async (after) => {
    const reply = await c.request({ type: 'ping' }, `pong after ${after}`);
    assert.equal(reply.type, 'pong');
    assert.equal(c.closed, null, `closed after ${after}`);
  };
  c.expectError = async (frame, code, what) => {
    c.send(frame);
    const reply = await c.next((m) => m.type === 'error', what);
    assert.equal(reply.code, code, `${what}: ${JSON.stringify(reply)}`);
    assert.equal(typeof reply.message, 'string');
    return reply;
  };
  return c;
}

test('signaling errors, broadcasts and HTTP', { timeout: 60000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer({ maxParticipants: 2 });

  // ---- HTTP
  const health = await server.get('/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok\n');
  assert.equal(health.headers['x-content-type-options'], 'nosniff');
  assert.equal(health.headers['referrer-policy'], 'no-referrer');
  assert.match(health.headers['content-security-policy'], /connect-src 'self' wss:/);
  assert.equal((await server.get('/../../etc/passwd')).status, 404);
  assert.equal((await server.get('/no-such-file.js')).status, 404);

  // ---- before join
  const a = await connect(server, h);
  await a.expectError('{"type":"join",', 'bad-json', 'truncated JSON');
  await a.alive('bad-json');
  await a.expectError('[1,2]', 'bad-json', 'array');
  await a.expectError({ type: 'teleport', id: 9 }, 'unknown-type', 'unknown type');
  await a.expectError({ id: 1 }, 'bad-message', 'missing type');
  await a.expectError({ type: 'join', token: 42 }, 'bad-message', 'numeric token');
  await a.expectError({ type: 'offer', sdp: 'v=0\r\n' }, 'not-joined', 'offer before join');
  a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await a.next((m) => m.type === 'error' && m.code === 'bad-message', 'binary frame');
  await a.alive('binary');
  const big = JSON.stringify({ type: 'ping', id: 'big', pad: 'x'.repeat(70000) });
  await a.expectError(big, 'message-too-large', 'oversized frame');
  // Fragmented: the limit applies to the reassembled message.
  const frag = Buffer.from(JSON.stringify({ type: 'ping', id: 'frag', pad: 'y'.repeat(40000) }));
  a.ws.send(frag.subarray(0, 30000), { binary: false, fin: false });
  a.ws.send(frag.subarray(30000), { binary: false, fin: true });
  assert.equal((await a.next((m) => m.id === 'frag', 'fragmented ping')).type, 'pong');
  await a.alive('message-too-large');

  // ---- join, error ids, already-joined
  const e = await a.request({ type: 'join', token: 5 });
  assert.equal(e.code, 'bad-message');
  const joined = await a.request({ type: 'join', token: await server.mint({ room: 'errs', user: 'd1', name: 'Dr Ärztin', role: 'doctor' }) });
  assert.equal(joined.type, 'joined', JSON.stringify(joined));
  assert.equal(joined.room, 'errs');
  assert.match(joined.participant.id, /^p[0-9a-f]{16}$/);
  assert.equal(joined.participant.name, 'Dr Ärztin');
  assert.deepEqual(joined.participants, []);
  assert.ok(Array.isArray(joined.ice_servers));
  assert.equal((await a.request({ type: 'join', token: 'x' })).code, 'already-joined');
  assert.equal((await a.request({ type: 'offer', sdp: 'garbage' })).code, 'invalid-sdp');
  await a.alive('invalid-sdp');

  // ---- a second participant: broadcasts; a third: room-full
  const b = await connect(server, h);
  const bJoined = await b.request({ type: 'join', token: await server.mint({ room: 'errs', user: 'o1', name: 'Observer', role: 'observer' }) });
  assert.equal(bJoined.type, 'joined');
  assert.deepEqual(bJoined.participants.map((p) => p.id), [joined.participant.id]);
  const pj = await a.next((m) => m.type === 'participant-joined', 'participant-joined');
  assert.equal(pj.participant.id, bJoined.participant.id);
  assert.equal(pj.participant.role, 'observer');

  const c = await connect(server, h);
  assert.equal((await c.request({ type: 'join', token: await server.mint({ room: 'errs', user: 'g', name: 'G', role: 'guest' }) })).code, 'room-full');
  await c.alive('room-full');

  // ---- roles: an observer may not publish or mute
  assert.equal((await b.request({ type: 'mute', kind: 'audio', muted: true })).code, 'forbidden');
  const sendonly = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n' +
    'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n' +
    'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n' +
    'a=fingerprint:sha-256 ' + Array(32).fill('AB').join(':') + '\r\na=setup:actpass\r\n' +
    'a=rtpmap:111 opus/48000/2\r\n';
  const forbidden = await b.request({ type: 'offer', sdp: sendonly });
  assert.equal(forbidden.code, 'forbidden', JSON.stringify(forbidden));
  await b.alive('forbidden');

  // ---- mute broadcasts participant-updated
  assert.equal((await a.request({ type: 'mute', kind: 'video', muted: true })).type, 'ok');
  const upd = await b.next((m) => m.type === 'participant-updated', 'participant-updated');
  assert.equal(upd.participant.video_muted, true);
  assert.equal(upd.participant.audio_muted, false);

  // ---- bad-state: a second offer while the first is pending. Both frames
  // leave in one write so the server reads them before media can answer.
  a.ws._socket.cork();
  a.send({ type: 'offer', id: 'o1', sdp: sendonly });
  a.send({ type: 'offer', id: 'o2', sdp: sendonly });
  a.ws._socket.uncork();
  const second = await a.next((m) => m.id === 'o2', 'second offer');
  assert.equal(second.code, 'bad-state', JSON.stringify(second));
  const first = await a.next((m) => m.id === 'o1', 'first offer');
  assert.ok(first.type === 'answer' || first.type === 'error', JSON.stringify(first));

  // ---- leave: ok, participant-left, close 1000
  assert.equal((await b.request({ type: 'leave' })).type, 'ok');
  const left = await a.next((m) => m.type === 'participant-left', 'participant-left');
  assert.equal(left.participant.id, bJoined.participant.id);
  await new Promise((r) => (b.closed ? r() : b.ws.once('close', r)));
  assert.equal(b.closed.code, 1000);

  // ---- tokens: forged, alg none, expired -> error, then closed
  const key = await server.tokenKey();
  const now = Math.floor(Date.now() / 1000);
  const claims = { room: 'errs', sub: 'x', name: 'X', role: 'doctor', exp: now + 600 };
  const cases = [
    [signToken(claims, Buffer.from('not the secret')), 'invalid-token'],
    [signToken({ ...claims, role: 'admin' }, key), 'invalid-token'],
    [signToken(claims, key, { alg: 'none', typ: 'JWT' }).replace(/[^.]+$/, ''), 'invalid-token'],
    [signToken(claims, key, { alg: 'HS512', typ: 'JWT' }), 'invalid-token'],
    [signToken({ ...claims, exp: now - 10 }, key), 'token-expired'],
  ];
  for (const [token, code] of cases) {
    const x = await connect(server, h);
    const reply = await x.request({ type: 'join', token });
    assert.equal(reply.code, code, JSON.stringify(reply));
    await new Promise((r) => (x.closed ? r() : x.ws.once('close', r)));
    assert.equal(x.closed.code, 1008);
  }

  // ---- metrics count what happened
  const metrics = (await server.get('/metrics')).body;
  assert.match(metrics, /^consilium_signaling_errors_total\{code="invalid-token"\} 4$/m);
  assert.match(metrics, /^consilium_signaling_errors_total\{code="token-expired"\} 1$/m);
  assert.match(metrics, /^consilium_signaling_errors_total\{code="room-full"\} 1$/m);
  assert.match(metrics, /^consilium_signaling_participants 1$/m);
  assert.match(metrics, /^consilium_signaling_rooms 1$/m);
  assert.ok(server.alive, 'consiliumd still running');
});
