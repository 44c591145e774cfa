// Bad room tokens are refused: one signed with another secret, one whose
// payload was edited after signing, one with alg "none", and an expired one.
// The page shows the matching error; a raw WebSocket gets the `error` and
// is closed; the room of two real participants never sees the intruder and
// its media keeps flowing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  createHarness, joinCall, openJoinScreen, waitFor, waitForRemote, assertVideoFlows, signToken, wsClient,
} from './lib/harness.mjs';

const ROOM = 'consult-7';

test('forged, tampered and expired tokens are refused', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();

  const real = [];
  const realIds = [];
  for (const p of [{ user: 'doc', name: 'Dr Real', role: 'doctor' }, { user: 'pat', name: 'Real Patient', role: 'patient' }]) {
    const page = await h.chromiumPage(browser, p.user);
    realIds.push(await joinCall(page, server, await server.mint({ room: ROOM, ...p })));
    real.push(page);
  }
  await waitForRemote(real[0], [realIds[1]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'real call flowing' });
  await waitForRemote(real[1], [realIds[0]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'real call flowing' });

  const now = Math.floor(Date.now() / 1000);
  const claims = { room: ROOM, sub: 'mallory', name: 'Mallory', role: 'doctor', iat: now, exp: now + 600 };
  const key = await server.tokenKey();

  const genuine = await server.mint({ room: ROOM, user: 'mallory', name: 'Mallory', role: 'guest' });
  const [hdr, , sig] = genuine.split('.');
  const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'doctor' })).toString('base64url');

  const cases = [
    { what: 'signed with another secret', token: signToken(claims, randomBytes(32)), code: 'invalid-token' },
    { what: 'payload edited after signing', token: `${hdr}.${promoted}.${sig}`, code: 'invalid-token' },
    { what: 'alg none', token: signToken(claims, Buffer.alloc(0), { alg: 'none', typ: 'JWT' }).replace(/[^.]+$/, ''), code: 'invalid-token' },
    { what: 'expired', token: signToken({ ...claims, iat: now - 1200, exp: now - 600 }, key), code: 'token-expired' },
  ];

  const intruderPage = await h.chromiumPage(browser, 'intruder');
  for (const c of cases) {
    // The page: Join shows the error, and the client stays on the join screen.
    await openJoinScreen(intruderPage, server, c.token);
    await intruderPage.click('#join-button');
    const shown = await waitFor(intruderPage, () => {
      const box = document.getElementById('error');
      return !box.hidden && box.dataset.code ? { code: box.dataset.code, text: document.getElementById('error-text').textContent } : null;
    }, null, { what: `error shown for ${c.what}` });
    assert.equal(shown.code, c.code, `${c.what}: page shows ${shown.code}`);
    assert.ok(shown.text.length > 10, `${c.what}: a human-readable message (${shown.text})`);
    assert.equal(await intruderPage.evaluate(() => window.consilium.joined), false);
    assert.equal(await intruderPage.evaluate(() => document.body.dataset.screen), 'join');

    // The protocol: an `error` with the request's id, then the server closes.
    const ws = await wsClient(server, h);
    assert.equal(ws.protocol, 'consilium-v1');
    ws.send({ type: 'join', id: 1, token: c.token });
    const reply = await ws.reply(1, `reply to join (${c.what})`);
    assert.equal(reply.type, 'error', `${c.what}: ${JSON.stringify(reply)}`);
    assert.equal(reply.code, c.code, `${c.what}: ${JSON.stringify(reply)}`);
    await ws.waitClosed(5000);
  }

  // The real room never saw the intruder and still works.
  for (const [i, page] of real.entries()) {
    const view = await page.evaluate(() => ({
      remote: window.consilium.remoteParticipants.map((p) => p.id),
      joined: window.consilium.log.filter((m) => m.type === 'participant-joined').map((m) => m.participant),
    }));
    assert.deepEqual(view.remote, [realIds[1 - i]]);
    for (const id of view.joined) assert.ok(realIds.includes(id), `participant-joined for a stranger ${id}`);
    await assertVideoFlows(page, [realIds[1 - i]], 2000);
  }
  assert.ok(server.alive, 'consiliumd still running');
});
