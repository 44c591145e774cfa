// DTLS role negotiation and SRTP profile choice. A browser offering
// a=setup:actpass gets our `passive` (we are the DTLS server, so our SRTP
// preference, AES-GCM, wins); one whose offer says a=setup:passive (made so
// here by editing the offer on its way out) gets our `active`, and the
// server then drives the handshake as the DTLS client. Both calls carry
// media in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, waitForRemote, assertVideoFlows } from './lib/harness.mjs';

async function transportStats(page) {
  return page.evaluate(async () => {
    let out = null;
    (await window.consilium.pc.getStats()).forEach((r) => {
      if (r.type === 'transport') out = { dtlsRole: r.dtlsRole, dtlsState: r.dtlsState, srtpCipher: r.srtpCipher, tlsVersion: r.tlsVersion };
    });
    return out;
  });
}

test('DTLS client and server roles both work; AES-GCM SRTP is preferred', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();
  const normal = await h.chromiumPage(browser, 'actpass');
  const passive = await h.chromiumPage(browser, 'passive');
  await passive.addInitScript(() => {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (typeof data === 'string' && data.includes('a=setup:actpass')) {
        const msg = JSON.parse(data);
        if (msg.type === 'offer') data = JSON.stringify({ ...msg, sdp: msg.sdp.replaceAll('a=setup:actpass', 'a=setup:passive') });
      }
      return send.call(this, data);
    };
    window.__answers = [];
    const srd = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = function (d) {
      if (d?.sdp) window.__answers.push(d.sdp);
      return srd.call(this, d);
    };
  });
  const idn = await joinCall(normal, server, await server.mint({ room: 'dtls', user: 'n', name: 'Normal', role: 'doctor' }));
  const idp = await joinCall(passive, server, await server.mint({ room: 'dtls', user: 'p', name: 'Passive', role: 'patient' }));

  await waitForRemote(normal, [idp], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'video from the passive peer' });
  await waitForRemote(passive, [idn], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'video from the actpass peer' });
  await assertVideoFlows(normal, [idp], 2000);
  await assertVideoFlows(passive, [idn], 2000);

  const answers = await passive.evaluate(() => window.__answers);
  assert.ok(answers.length > 0 && answers.every((a) => a.includes('a=setup:active')), 'server answers active to a passive offer');
  const n = await transportStats(normal);
  const p = await transportStats(passive);
  t.diagnostic(`actpass peer: ${JSON.stringify(n)}; passive peer: ${JSON.stringify(p)}`);
  assert.equal(n.dtlsRole, 'client', 'we are the DTLS server for an actpass offer');
  assert.equal(p.dtlsRole, 'server', 'we are the DTLS client for a passive offer');
  assert.equal(n.dtlsState, 'connected');
  assert.equal(p.dtlsState, 'connected');
  assert.equal(n.srtpCipher, 'SRTP_AEAD_AES_128_GCM', 'our GCM preference wins as DTLS server');
});

test('a DTLS certificate that does not match the SDP fingerprint is refused', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();
  const honest = await h.chromiumPage(browser, 'honest');
  const forged = await h.chromiumPage(browser, 'forged');
  await forged.addInitScript(() => {
    window.__mediaStates = [];
    const Orig = window.WebSocket;
    const send = Orig.prototype.send;
    Orig.prototype.send = function (data) {
      if (typeof data === 'string' && data.includes('a=fingerprint:')) {
        const msg = JSON.parse(data);
        // Change the last hex digit of the fingerprint: the browser's real
        // certificate no longer matches what its SDP claims.
        if (msg.type === 'offer')
          data = JSON.stringify({ ...msg, sdp: msg.sdp.replace(/(a=fingerprint:sha-256 [0-9A-F:]*)([0-9A-F])/g,
            (all, head, last) => head + (last === '0' ? '1' : '0')) });
      }
      return send.call(this, data);
    };
    window.WebSocket = function (...args) {
      const ws = new Orig(...args);
      ws.addEventListener('message', (e) => {
        try { const m = JSON.parse(e.data); if (m.type === 'media-state') window.__mediaStates.push(m.state); } catch { /* not JSON */ }
      });
      return ws;
    };
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    window.WebSocket.prototype = Orig.prototype;
  });
  const before = (await server.get('/metrics')).body;
  const idh = await joinCall(honest, server, await server.mint({ room: 'fp', user: 'h', name: 'Honest', role: 'doctor' }));
  await joinCall(forged, server, await server.mint({ room: 'fp', user: 'f', name: 'Forged', role: 'patient' }));
  const states = await forged.waitForFunction(() => window.__mediaStates.includes('failed') && window.__mediaStates,
    null, { timeout: 30000 }).then((hnd) => hnd.jsonValue());
  t.diagnostic(`server media-state for the forged peer: ${states.join(' -> ')}`);
  assert.ok(!states.includes('connected'), 'never connected');
  const after = (await server.get('/metrics')).body;
  const count = (text) => text.split('\n').filter((l) => l.startsWith('consilium_media_dtls_failures_total'))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  assert.ok(count(after) > count(before), 'the DTLS failure is counted');

  // The forged peer's media never reaches the honest participant.
  const stats = await honest.evaluate(async () => {
    let bytes = 0;
    (await window.consilium.pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') bytes += r.bytesReceived; });
    return bytes;
  });
  assert.equal(stats, 0, 'no media received from the forged peer');
  assert.ok(idh);
});
