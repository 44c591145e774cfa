// Three Chromium participants in one room: everyone decodes the two others'
// video and plays their audio; after one leaves, the other two keep flowing
// and see participant-left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, joinCall, waitFor, waitForRemote, assertVideoFlows, assertAudioFlows } from './lib/harness.mjs';

test('three participants exchange audio and video; one leaves', { timeout: 210000 }, async (t) => {
  const h = createHarness(t);
  const server = await h.startServer();
  const browser = await h.launchChromium();

  const people = [
    { user: 'doc1', name: 'Dr Li', role: 'doctor' },
    { user: 'pat1', name: 'Wang Fang', role: 'patient' },
    { user: 'spec1', name: 'Dr Chen', role: 'specialist' },
  ];
  const pages = [];
  const ids = [];
  for (const p of people) {
    const page = await h.chromiumPage(browser, p.user);
    ids.push(await joinCall(page, server, await server.mint({ room: 'three', ...p })));
    pages.push(page);
  }

  for (let i = 0; i < 3; i++) {
    const others = ids.filter((_, j) => j !== i);
    await waitFor(pages[i], (n) => window.consilium.remoteParticipants.length === n, 2,
      { what: 'two remote participants' });
    // Decoded video and played-out audio (totalAudioEnergy only grows once
    // the audio is rendered by an <audio> element) from both others.
    await waitForRemote(pages[i], others,
      (e) => e.video?.framesDecoded > 0 && e.audio?.totalAudioEnergy > 0,
      { timeout: 40000, what: 'video decoded and audio played from both others' });
    await assertVideoFlows(pages[i], others, 2000);

    // Each remote tile is labelled with the participant's name and role.
    for (const [j, id] of ids.entries()) {
      if (j === i) continue;
      const label = await pages[i].evaluate((pid) =>
        document.querySelector(`#tiles li[data-participant="${pid}"]`)?.getAttribute('aria-label'), id);
      assert.ok(label?.includes(people[j].name) && label.includes(people[j].role), `tile label ${label}`);
    }
  }

  const leaver = ids[2];
  await pages[2].click('#leave-button');
  await waitFor(pages[2], () => document.body.dataset.screen === 'left' && !window.consilium.joined, null,
    { what: 'left screen' });

  for (const i of [0, 1]) {
    await waitFor(pages[i], (id) => {
      const c = window.consilium;
      return !c.remoteParticipants.some((p) => p.id === id) &&
        c.log.some((m) => m.type === 'participant-left' && m.participant === id) &&
        !document.querySelector(`#tiles li[data-participant="${id}"]`);
    }, leaver, { timeout: 15000, what: 'participant-left of the leaver' });
    const other = ids[1 - i];
    await assertVideoFlows(pages[i], [other], 2000);
    await assertAudioFlows(pages[i], [other], 2000);
  }
});
