// A third participant joins a call that has been running for a few seconds:
// its first decoded frame of each remote video must come less than 2 s after
// the `answer` that binds that video to one of its subscription slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, openJoinScreen, waitFor, waitForRemote, sleep } from './lib/harness.mjs';

const FIRST_FRAME_LIMIT_MS = 2000;

test('late joiner decodes every remote video within 2 s of its answer', { timeout: 180000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();

  const early = [];
  const earlyIds = [];
  for (const p of [{ user: 'doc', name: 'Dr Early', role: 'doctor' }, { user: 'pat', name: 'Early Patient', role: 'patient' }]) {
    const page = await h.chromiumPage(browser, p.user);
    earlyIds.push(await joinCall(page, server, await server.mint({ room: 'late', ...p })));
    early.push(page);
  }
  await waitForRemote(early[0], [earlyIds[1]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'early call flowing' });
  await waitForRemote(early[1], [earlyIds[0]], (e) => e.video?.framesDecoded > 0, { timeout: 40000, what: 'early call flowing' });
  await sleep(3000); // the late joiner must not land on a fresh keyframe

  const late = await h.chromiumPage(browser, 'late');
  await openJoinScreen(late, server, await server.mint({ room: 'late', user: 'spec', name: 'Dr Late', role: 'specialist' }));
  // A stats poller started before Join, so the first decoded frame is seen
  // within one getStats() round (a few ms) of when it happens.
  await late.evaluate(() => {
    window.__firstFrame = {};
    const tick = async () => {
      const c = window.consilium;
      if (c.pc && c.pc.connectionState !== 'closed') {
        const report = await c.pc.getStats();
        const now = performance.now();
        for (const p of c.remoteParticipants) {
          if (window.__firstFrame[p.id]) continue;
          for (const s of report.values()) {
            if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 &&
                ((p.mids.video != null && s.mid === p.mids.video) || s.trackIdentifier === p.trackIds.video))
              window.__firstFrame[p.id] = now;
          }
        }
      }
      if (Object.keys(window.__firstFrame).length < 2) setTimeout(tick, 10);
    };
    tick();
  });
  await late.click('#join-button');
  await waitFor(late, () => Object.keys(window.__firstFrame).length === 2, null,
    { timeout: 30000, what: 'first frame of both remote videos' });

  const result = await late.evaluate(() => {
    const c = window.consilium;
    return c.remoteParticipants.map((p) => {
      // The answer that first mapped a slot to this participant's video.
      const answer = c.answers.find((a) => a.streams.some((s) => s.participant === p.id && s.kind === 'video'));
      return { id: p.id, name: p.name, answerAt: answer?.at ?? null, firstFrameAt: window.__firstFrame[p.id],
        answers: c.answers.length };
    });
  });
  t.diagnostic(JSON.stringify(result.map((r) => ({ name: r.name, ms: Math.round(r.firstFrameAt - r.answerAt) }))));
  assert.equal(result.length, 2);
  for (const r of result) {
    assert.ok(earlyIds.includes(r.id), `unexpected participant ${r.id}`);
    assert.notEqual(r.answerAt, null, `no answer mapped ${r.name}'s video`);
    const ms = r.firstFrameAt - r.answerAt;
    assert.ok(ms < FIRST_FRAME_LIMIT_MS, `${r.name}: first frame ${Math.round(ms)} ms after answer (limit ${FIRST_FRAME_LIMIT_MS} ms)`);
  }
});
