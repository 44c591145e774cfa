// Faults on the media path, injected on the call's own 5-tuple through a
// UDP relay: unauthenticated, truncated and replayed RTP/RTCP is dropped
// and counted in /metrics while the call goes on; under packet loss the
// server answers NACKs from its retransmission buffer (RTX) and asks the
// publisher for what it lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createHarness, joinCall, waitForRemote, assertVideoFlows, assertAudioFlows, sleep } from './lib/harness.mjs';
import { relayPage, metric } from './lib/udp-relay.mjs';

async function callThroughRelay(t, room) {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();
  const a = await h.chromiumPage(browser, 'relayed');
  const relays = await relayPage(h, a);
  const b = await h.chromiumPage(browser, 'direct');
  const ida = await joinCall(a, server, await server.mint({ room, user: 'doc', name: 'Dr Li', role: 'doctor' }));
  const idb = await joinCall(b, server, await server.mint({ room, user: 'pat', name: 'Wang', role: 'patient' }));
  await waitForRemote(a, [idb], (e) => e.video?.framesDecoded > 0 && e.audio?.totalAudioEnergy > 0,
    { timeout: 40000, what: 'relayed page receives' });
  await waitForRemote(b, [ida], (e) => e.video?.framesDecoded > 0 && e.audio?.totalAudioEnergy > 0,
    { timeout: 40000, what: 'direct page receives' });
  assert.equal(relays.size, 1, 'the relayed page reaches the server only through the relay');
  const relay = [...relays.values()][0];
  assert.ok(relay.forwarded.up > 0 && relay.forwarded.down > 0, 'media crosses the relay');
  return { h, server, a, b, ida, idb, relay };
}

test('unauthenticated, truncated and replayed RTP/RTCP is dropped and counted', { timeout: 180000 }, async (t) => {
  const { server, a, b, ida, idb, relay } = await callThroughRelay(t, 'faults');
  const before = (await server.get('/metrics')).body;

  let sent = 0;
  const send = async (buf) => { await relay.inject(buf); sent++; };
  for (let i = 0; i < 40; i++) {           // RTP with a forged or missing auth tag
    const pkt = crypto.randomBytes(60 + i * 20);
    pkt[0] = 0x80; pkt[1] = i % 2 ? 96 : 0x80 | 111;
    await send(pkt);
  }
  for (let i = 0; i < 20; i++) {           // SRTCP-looking garbage: SR, RR, PSFB, RTPFB
    const pkt = crypto.randomBytes(40 + i);
    pkt[0] = 0x81; pkt[1] = [200, 201, 206, 205][i % 4];
    await send(pkt);
  }
  for (const len of [1, 2, 3, 11, 12, 13]) { // truncated headers
    const pkt = Buffer.alloc(len, 0); pkt[0] = 0x80;
    await send(pkt);
  }
  for (let i = 0; i < 10; i++) await send(relay.lastUpRtp);  // replays of a real packet
  for (let i = 0; i < 10; i++) {           // DTLS-looking garbage after the handshake
    const pkt = crypto.randomBytes(100); pkt[0] = 0x17; pkt[1] = 0xfe; pkt[2] = 0xfd;
    await relay.inject(pkt);
  }
  await sleep(1500);

  const after = (await server.get('/metrics')).body;
  const dropped = (m) => metric(after, m) - metric(before, m);
  const srtp = dropped('consilium_media_srtp_errors_total');
  const malformed = dropped('consilium_media_malformed_rtp_total') + dropped('consilium_media_malformed_rtcp_total');
  t.diagnostic(`injected ${sent} RTP/RTCP-like packets: srtp_errors +${srtp}, malformed +${malformed}`);
  assert.ok(srtp + malformed >= sent, `every injected packet is counted (${srtp} + ${malformed} of ${sent})`);
  assert.equal((await server.get('/healthz')).status, 200, 'server still up');

  // The call goes on both ways, through the relay and direct.
  await assertVideoFlows(a, [idb], 2000);
  await assertAudioFlows(a, [idb], 2000);
  await assertVideoFlows(b, [ida], 2000);
});

test('packet loss: NACKs are answered with retransmissions and lost packets are requested', { timeout: 180000 }, async (t) => {
  const { server, a, b, ida, idb, relay } = await callThroughRelay(t, 'loss');
  const before = (await server.get('/metrics')).body;
  relay.dropDown = 0.05;  // server -> relayed browser: the browser NACKs us
  relay.dropUp = 0.05;    // relayed browser -> server: we NACK the publisher
  await sleep(8000);
  relay.dropDown = relay.dropUp = 0;
  await sleep(1000);
  const after = (await server.get('/metrics')).body;
  const grew = (m) => metric(after, m) - metric(before, m);
  t.diagnostic(`dropped up ${relay.dropped.up}, down ${relay.dropped.down}; ` +
    `nacks in +${grew('consilium_media_nacks_received_total')}, retransmissions +${grew('consilium_media_retransmissions_total')}, ` +
    `nacks out +${grew('consilium_media_nacks_sent_total')}`);
  assert.ok(relay.dropped.down > 0 && relay.dropped.up > 0);
  assert.ok(grew('consilium_media_nacks_received_total') > 0, 'the browser NACKed what it lost');
  assert.ok(grew('consilium_media_retransmissions_total') > 0, 'the server retransmitted from its buffer');
  assert.ok(grew('consilium_media_nacks_sent_total') > 0, 'the server NACKed the publisher');

  // The browser saw the retransmissions as RTX and recovered.
  const rtx = await a.evaluate(async () => {
    let nack = 0, rtxBytes = 0;
    (await window.consilium.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        nack += r.nackCount || 0;
        rtxBytes += r.retransmittedBytesReceived || 0;
      }
    });
    return { nack, rtxBytes };
  });
  t.diagnostic(`relayed browser: nackCount ${rtx.nack}, retransmittedBytesReceived ${rtx.rtxBytes}`);
  assert.ok(rtx.nack > 0, 'the browser sent NACKs');
  assert.ok(rtx.rtxBytes > 0, 'the browser received retransmissions');
  await assertVideoFlows(a, [idb], 2000);
  await assertVideoFlows(b, [ida], 2000);
});
