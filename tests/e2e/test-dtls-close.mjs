// When the server ends a participant's media (here: consiliumd shutting
// down), the browser's DTLS transport closes at once on our close_notify,
// although the server released its DTLS session right after the handshake
// (media/dtls.c keeps only that record). Without it the browser would wait
// for ICE consent to expire (~30 s). The page's own teardown is disabled so
// only what arrives on the wire can close the transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, waitForRemote, sleep } from './lib/harness.mjs';

test('the browser sees close_notify when the server ends the call', { timeout: 120000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();
  const pages = [];
  const ids = [];
  for (const p of [{ user: 'doc', name: 'Dr Li', role: 'doctor' }, { user: 'pat', name: 'Wang Fang', role: 'patient' }]) {
    const page = await h.chromiumPage(browser, p.user);
    ids.push(await joinCall(page, server, await server.mint({ room: 'close', ...p })));
    pages.push(page);
  }
  // Media has flowed both ways: both sides released their DTLS sessions.
  await waitForRemote(pages[0], [ids[1]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'call flowing' });
  await waitForRemote(pages[1], [ids[0]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'call flowing' });

  const page = pages[0];
  await page.evaluate(() => {
    window.__pc = window.consilium.pc;
    window.__dtls = window.__pc.getSenders()[0].transport;
    RTCPeerConnection.prototype.close = function () {};
  });
  const state = () => page.evaluate(() => window.__dtls.state);
  assert.equal(await state(), 'connected');

  const t0 = Date.now();
  await server.stop();
  let s;
  while ((s = await state()) === 'connected' && Date.now() - t0 < 10000)
    await sleep(100);
  assert.equal(s, 'closed', `DTLS transport ${s} ${Date.now() - t0} ms after the server stopped`);
  t.diagnostic(`closed ${Date.now() - t0} ms after the server stopped`);
});
