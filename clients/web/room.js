// room.js — one participant's side of a consultation room, shared by the
// call page (app.js) and the visit page (visit.js): the signaling socket, the
// peer connection, the participant tiles, mute and leave, the quality bars
// and the read-only test hook. Pages own their screens and error texts and
// hear about what happens through the on* callbacks. Protocol:
// docs/signaling.md.

import { t, getLocale } from './i18n.js';
import { Signaling } from './signaling.js';
import { Call } from './call.js';
import { ReceiverQuality, senderQuality } from './quality.js';
import * as ui from './ui.js';

const $ = (id) => document.getElementById(id);
const QUALITY_INTERVAL_MS = 2000;

export class Room {
  tiles = new ui.Tiles();
  local = null;        // MediaStream of camera + microphone
  sig = null;
  call = null;
  joined = false;
  room = null;
  self = null;         // our participant object from `joined`
  participants = new Map(); // id -> participant object (others)
  quality = new Map(); // id -> ReceiverQuality
  qualityTimer = 0;
  mediaState = null;
  muted = { audio: false, video: false };
  log = [];            // recent server messages (type and participant), for tests

  /** (code, detail): an error the page should show. */
  onFail = () => {};
  /** (msg): a server message the room does not handle itself. */
  onMessage = () => {};
  /** (): the socket closed while we were in the room. */
  onClosed = () => {};

  /** Opens the signaling socket; rejects with a SignalingError. */
  async open(url = `wss://${location.host}/ws`) {
    const sig = new Signaling();
    this.sig = sig;
    await sig.connect(url);
    sig.addEventListener('message', (ev) => this.#onServerMessage(ev.message));
    sig.addEventListener('close', () => {
      if (this.joined) this.onClosed();
    });
    return sig;
  }

  /** Wires the call screen's buttons (@onLeave for Leave) and says goodbye when the page goes. */
  bindControls(onLeave) {
    $('mic-button').addEventListener('click', () => this.toggleMute('audio'));
    $('cam-button').addEventListener('click', () => this.toggleMute('video'));
    $('leave-button').addEventListener('click', onLeave);
    $('enable-audio').addEventListener('click', () => {
      this.tiles.playAll();
      $('enable-audio').hidden = true;
    });
    this.tiles.onAudioBlocked = () => {
      $('enable-audio').hidden = false;
    };
    window.addEventListener('pagehide', () => {
      if (this.sig?.open) this.sig.send({ type: 'leave' });
    });
  }

  request(msg, timeoutMs) {
    return this.sig.request(msg, timeoutMs);
  }

  /** Enters the call with a `joined` message: tiles, then the peer connection. */
  enter(msg) {
    this.joined = true;
    this.room = msg.room;
    this.self = msg.participant;
    this.participants = new Map((msg.participants || []).map((p) => [p.id, p]));
    this.muted = { audio: false, video: false };
    this.record(msg);

    const tiles = this.tiles;
    tiles.clear();
    tiles.upsert({ ...this.self }, { local: true });
    tiles.setTracks(this.self.id, { video: this.local?.getVideoTracks()[0] ?? null, audio: null });
    for (const p of this.participants.values()) tiles.upsert(p);
    this.renderControls();
    this.setMediaState('connecting');

    const local = this.local ?? new MediaStream();
    this.call = new Call(this.sig, local, Array.isArray(msg.ice_servers) ? msg.ice_servers : []);
    this.call.addEventListener('tracks', () => this.#syncTracks());
    this.call.addEventListener('error', (ev) => this.onFail(ev.error.code, ev.error.message));
    this.call.start([...this.participants.values()]);
    this.qualityTimer = setInterval(() => this.#updateQuality(), QUALITY_INTERVAL_MS);
    $('mic-button').focus();
  }

  record(msg) {
    this.log.push({ type: msg.type, at: performance.now(), participant: msg.participant?.id ?? null, code: msg.code ?? null });
    if (this.log.length > 200) this.log.shift();
  }

  #onServerMessage(msg) {
    this.record(msg);
    switch (msg.type) {
      case 'participant-joined':
        this.participants.set(msg.participant.id, msg.participant);
        this.tiles.upsert(msg.participant);
        ui.announce(t('call.joined', { name: msg.participant.name }));
        break;
      case 'participant-updated': {
        const p = { ...this.participants.get(msg.participant.id), ...msg.participant };
        if (p.id === this.self?.id) break;
        this.participants.set(p.id, p);
        this.tiles.upsert(p);
        break;
      }
      case 'participant-left': {
        const id = msg.participant.id;
        const p = this.participants.get(id);
        this.participants.delete(id);
        this.quality.delete(id);
        this.tiles.remove(id);
        if (p) ui.announce(t('call.left-other', { name: p.name }));
        break;
      }
      case 'media-state':
        this.setMediaState(msg.state);
        if (msg.state === 'failed') this.onFail('media-failed');
        break;
    }
    this.onMessage(msg);
  }

  #syncTracks() {
    const tracks = this.call.remoteTracks;
    for (const id of this.participants.keys()) this.tiles.setTracks(id, tracks.get(id) ?? { audio: null, video: null });
  }

  setMediaState(s) {
    this.mediaState = s;
    ui.setMediaState(s);
  }

  renderControls() {
    const mic = $('mic-button');
    const cam = $('cam-button');
    const hasAudio = !!this.local?.getAudioTracks().length;
    const hasVideo = !!this.local?.getVideoTracks().length;
    mic.querySelector('.label').textContent = t(this.muted.audio ? 'call.mic.unmute' : 'call.mic.mute');
    cam.querySelector('.label').textContent = t(this.muted.video ? 'call.cam.on' : 'call.cam.off');
    // The label says what a press does (so no aria-pressed, which would
    // contradict a changing label); data-off drives the icon and colour.
    mic.dataset.off = String(this.muted.audio);
    cam.dataset.off = String(this.muted.video);
    mic.disabled = !hasAudio;
    cam.disabled = !hasVideo;
  }

  toggleMute(kind) {
    return this.setMuted(kind, !this.muted[kind]);
  }

  /** Turns our @kind track off or on and tells the others. */
  async setMuted(kind, muted) {
    if (!this.call) return;
    this.muted[kind] = muted;
    this.call.setEnabled(kind, !muted);
    this.renderControls();
    this.self = { ...this.self, [`${kind}_muted`]: muted };
    this.tiles.upsert(this.self, { local: true });
    try {
      await this.sig.request({ type: 'mute', kind, muted });
    } catch (e) {
      if (e.code !== 'connection-lost') this.onFail(e.code, e.message);
    }
  }

  /** Says goodbye to the server (if connected) and releases the call. */
  async leave() {
    if (!this.sig) return;
    this.joined = false; // the close that follows is expected
    try {
      await this.sig.request({ type: 'leave' }, 2000);
    } catch {
      // Leaving anyway: closing the socket has the same effect on the server.
    }
    this.teardown();
  }

  /** Releases the call: peer connection, socket, remote tiles. Local media stays for a rejoin. */
  teardown() {
    clearInterval(this.qualityTimer);
    this.qualityTimer = 0;
    this.call?.close();
    this.call = null;
    if (this.sig) {
      const sig = this.sig;
      this.sig = null;
      sig.close();
    }
    this.joined = false;
    this.participants.clear();
    this.quality.clear();
    this.tiles.clear();
    this.setMediaState(null);
    // A rejoin publishes live tracks again.
    for (const track of this.local?.getTracks() ?? []) track.enabled = true;
  }

  stopLocal() {
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
  }

  async #updateQuality() {
    const call = this.call;
    if (!call) return;
    try {
      for (const id of this.participants.keys()) {
        if (!this.quality.has(id)) this.quality.set(id, new ReceiverQuality());
        const q = this.quality.get(id).update(await call.participantStats(id));
        this.tiles.setQuality(id, q.level);
      }
      if (this.self) this.tiles.setQuality(this.self.id, senderQuality(await call.senderStats()));
    } catch (e) {
      // The call may have ended while stats were being gathered.
      if (this.call) console.warn('stats failed', e);
    }
  }

  /**
   * Read-only view of the room for the end-to-end tests, as window.consilium;
   * @extra adds the page's own getters (property descriptors are copied).
   */
  exposeTestHook(extra = {}) {
    const room = this;
    const participantView = (p) => {
      const tracks = room.call?.remoteTracks.get(p.id);
      const mids = {};
      for (const [mid, s] of room.call?.midMap ?? []) if (s.participant === p.id) mids[s.kind] = mid;
      return Object.freeze({
        id: p.id, user: p.user, name: p.name, role: p.role,
        audioMuted: !!p.audio_muted, videoMuted: !!p.video_muted,
        mids: Object.freeze(mids),
        trackIds: Object.freeze({ audio: tracks?.audio?.id ?? null, video: tracks?.video?.id ?? null }),
      });
    };
    const hook = {
      get participantId() { return room.self?.id ?? null; },
      get joined() { return room.joined; },
      get room() { return room.room; },
      get remoteParticipants() { return [...room.participants.values()].map(participantView); },
      get pc() { return room.call?.pc ?? null; },
      get answers() { return room.call ? room.call.answers.map((a) => ({ ...a })) : []; },
      get mediaState() { return room.mediaState; },
      get log() { return room.log.map((m) => ({ ...m })); },
      get locale() { return getLocale(); },
    };
    Object.defineProperties(hook, Object.getOwnPropertyDescriptors(extra));
    window.consilium = Object.freeze(hook);
  }
}
