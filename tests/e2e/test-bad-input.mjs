// A hostile or broken signaling client next to a live call: malformed JSON,
// an unknown type, ill-typed fields, an invalid SDP offer and a 70 KB frame
// each get an `error` with the documented code, the connection stays usable
// (ping -> pong), the call's media keeps flowing and /metrics still answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, waitForRemote, assertVideoFlows, wsClient } from './lib/harness.mjs';

test('malformed signaling input is refused without harm', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();

  const pages = [];
  const ids = [];
  for (const p of [{ user: 'doc', name: 'Dr Steady', role: 'doctor' }, { user: 'pat', name: 'Steady Patient', role: 'patient' }]) {
    const page = await h.chromiumPage(browser, p.user);
    ids.push(await joinCall(page, server, await server.mint({ room: 'robust', ...p })));
    pages.push(page);
  }
  await waitForRemote(pages[0], [ids[1]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'call flowing' });
  await waitForRemote(pages[1], [ids[0]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'call flowing' });

  const ws = await wsClient(server, h);
  let pingId = 1000;
  const stillOpen = async (after) => {
    const id = pingId++;
    ws.send({ type: 'ping', id });
    const reply = await ws.reply(id, `pong after ${after}`);
    assert.equal(reply.type, 'pong', `after ${after}: ${JSON.stringify(reply)}`);
    assert.equal(ws.closed, null, `socket closed after ${after}`);
  };
  const expectError = async (frame, id, code, what) => {
    ws.send(frame);
    // Replies carry the request's id; unsolicited messages (streams, participant-*) carry none.
    const reply = await ws.next((m) => m.type === 'error' || (id !== undefined && m.id === id), `error for ${what}`);
    assert.equal(reply.type, 'error', `${what}: ${JSON.stringify(reply)}`);
    assert.equal(reply.code, code, `${what}: ${JSON.stringify(reply)}`);
    if (id !== undefined) assert.deepEqual(reply.id, id, `${what}: id echoed`);
    assert.equal(typeof reply.message, 'string', `${what}: has a message`);
    await stillOpen(what);
  };

  // Before joining.
  await expectError('{"type": "join", "token": ', null, 'bad-json', 'malformed JSON');
  await expectError('[1, 2, 3]', null, 'bad-json', 'a JSON array');
  await expectError({ type: 'join', id: 2, token: 42 }, 2, 'bad-message', 'join with a numeric token');

  // Join for real (as a guest that publishes nothing).
  ws.send({ type: 'join', id: 3, token: await server.mint({ room: 'robust', user: 'odd', name: 'Odd Client', role: 'guest' }) });
  const joined = await ws.reply(3, 'joined');
  assert.equal(joined.type, 'joined', JSON.stringify(joined));
  assert.equal(joined.participants.length, 2);

  await expectError({ type: 'teleport', id: 'x-4' }, 'x-4', 'unknown-type', 'unknown type');
  await expectError({ type: 'mute', id: 5, kind: 'audio', muted: 'yes' }, 5, 'bad-message', 'mute with a string for a boolean');
  await expectError({ type: 'offer', id: 6, sdp: 17 }, 6, 'bad-message', 'offer with a numeric sdp');
  await expectError({ type: 'offer', id: 7, sdp: 'v=0\r\nthis is not an SDP offer\r\n' }, 7, 'invalid-sdp', 'invalid SDP');
  await expectError(JSON.stringify({ type: 'ping', id: 8, pad: 'x'.repeat(70 * 1024) }), undefined, 'message-too-large', '70 KB frame');
  await expectError({ type: 'join', id: 9, token: 'whatever' }, 9, 'already-joined', 'second join');

  // The call was not disturbed.
  for (const [i, page] of pages.entries()) await assertVideoFlows(page, [ids[1 - i]], 2000);

  const metrics = await server.get('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers['content-type'] ?? '', /^text\/plain/);
  assert.match(metrics.body, /^# (HELP|TYPE) /m, 'Prometheus text');
  const health = await server.get('/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body.trim(), 'ok');
  assert.ok(server.alive, 'consiliumd still running');
});
