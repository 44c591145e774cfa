// Firefox (puppeteer-core over WebDriver BiDi) and Chromium (playwright-core)
// in one room: each decodes the other's video and receives its audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, waitFor, waitForRemote, assertVideoFlows, remoteStats, sleep } from './lib/harness.mjs';

test('Firefox and Chromium exchange audio and video', { timeout: 210000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const chromium = await h.launchChromium();
  const firefox = await h.launchFirefox();

  const cr = await h.chromiumPage(chromium, 'chromium');
  const ff = await h.firefoxPage(firefox, 'firefox');
  const crId = await joinCall(cr, server, await server.mint({ room: 'mixed', user: 'doc', name: 'Dr Chromium', role: 'doctor' }));
  const ffId = await joinCall(ff, server, await server.mint({ room: 'mixed', user: 'pat', name: 'Firefox Patient', role: 'patient' }));

  for (const [page, other] of [[cr, ffId], [ff, crId]])
    await waitFor(page, (id) => window.consilium.remoteParticipants.some((p) => p.id === id), other, { what: 'sees the other' });

  // Chromium receiving from Firefox: decoded video and played-out audio.
  await waitForRemote(cr, [ffId], (e) => e.video?.framesDecoded > 0 && e.audio?.totalAudioEnergy > 0,
    { timeout: 40000, what: 'Chromium decodes Firefox video and plays its audio' });
  await assertVideoFlows(cr, [ffId], 2000);

  // Firefox receiving from Chromium. Its inbound-rtp has framesDecoded.
  await waitForRemote(ff, [crId], (e) => e.video?.framesDecoded > 0 && e.audio?.packetsReceived > 0,
    { timeout: 40000, what: 'Firefox decodes Chromium video and receives audio' });
  await assertVideoFlows(ff, [crId], 2000);

  // Audio energy: Firefox ESR 153 reports totalAudioEnergy and audioLevel on
  // inbound-rtp (seen here); older versions did not, so where both are
  // missing (null here) we fall back to bytesReceived growth, which proves
  // delivery but not playout.
  const a = (await remoteStats(ff))[crId].audio;
  await sleep(2000);
  const b = (await remoteStats(ff))[crId].audio;
  t.diagnostic(`firefox inbound audio: ${JSON.stringify(b)}`);
  if (typeof b.totalAudioEnergy === 'number') {
    assert.ok(b.totalAudioEnergy > 0, `Firefox totalAudioEnergy ${b.totalAudioEnergy}`);
    assert.ok(b.totalAudioEnergy > a.totalAudioEnergy, 'Firefox totalAudioEnergy grows');
  } else if (typeof b.audioLevel === 'number') {
    assert.ok(b.audioLevel > 0, `Firefox audioLevel ${b.audioLevel}`);
  } else {
    assert.ok(b.bytesReceived > a.bytesReceived, `Firefox audio bytesReceived grows (${a.bytesReceived} -> ${b.bytesReceived})`);
  }
  // Its <audio> element is actually playing the remote stream.
  const playing = await ff.evaluate((id) => {
    const el = document.querySelector(`#audio-sink audio[data-participant="${id}"]`);
    return !!el && !el.paused && el.srcObject?.getAudioTracks().length === 1;
  }, crId);
  assert.ok(playing, 'Firefox plays the remote audio element');
});
