// call.js — the RTCPeerConnection side of docs/signaling.md.
//
// One peer connection. Our microphone and camera are sendonly transceivers;
// every remote track arrives on a recvonly "subscription slot" that the
// server binds to it. We are always the offerer, and offers are strictly
// serialized: a `streams` update that arrives mid-negotiation only marks the
// negotiation dirty, and the loop in #negotiate() offers again once the
// current answer has been applied.

import { SignalingError } from './signaling.js';

const KINDS = ['audio', 'video'];

export class Call extends EventTarget {
  pc;
  /** mid -> {participant, kind, track} from the latest answer. */
  midMap = new Map();
  /** participant id -> {audio: MediaStreamTrack|null, video: ...} */
  remoteTracks = new Map();
  /** Timestamps (performance.now()) and stream lists of applied answers, for tests and diagnostics. */
  answers = [];

  #sig;
  #local;
  #senders = {};          // kind -> RTCRtpSender of our published track
  #wanted = [];           // latest `streams` list from the server
  #negotiating = false;
  #dirty = false;
  #offerSent = false;     // our candidates wait until the first offer is out
  #localCandidates = [];
  #remoteCandidates = []; // server candidates wait for the first answer
  #haveAnswer = false;
  #closed = false;
  #onSignal;

  /**
   * @param sig       a joined Signaling
   * @param local     our MediaStream (its tracks are published as-is)
   * @param iceServers from `joined`
   */
  constructor(sig, local, iceServers = []) {
    super();
    this.#sig = sig;
    this.#local = local;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc.onicecandidate = (e) => this.#onLocalCandidate(e.candidate);
    this.pc.ontrack = (e) => this.#onTrack(e);
    this.pc.onconnectionstatechange = () =>
      this.dispatchEvent(Object.assign(new Event('connectionstate'), { state: this.pc.connectionState }));

    this.#onSignal = (ev) => this.#onServerMessage(ev.message);
    for (const type of ['streams', 'candidate', 'end-of-candidates']) sig.addEventListener(type, this.#onSignal);

    for (const track of local.getTracks()) {
      // Chromium lets us pick Opus/VP8 only through codec preferences; the
      // server insists on them, so put them first where the API exists.
      const tr = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [local] });
      preferCodec(tr, track.kind === 'audio' ? 'audio/opus' : 'video/VP8');
      this.#senders[track.kind] = tr.sender;
    }
  }

  /**
   * First negotiation. @participants are the others already in the room:
   * a slot per kind for each saves a round trip, since the server would
   * otherwise only tell us about their tracks after our first answer.
   */
  start(participants = []) {
    this.#wanted = participants.flatMap((p) => KINDS.map((kind) => ({ participant: p.id, kind })));
    return this.#negotiate();
  }

  /** Enables or disables our outgoing @kind track (the server is told by the caller). */
  setEnabled(kind, enabled) {
    for (const track of this.#local.getTracks()) if (track.kind === kind) track.enabled = enabled;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const type of ['streams', 'candidate', 'end-of-candidates'])
      this.#sig.removeEventListener(type, this.#onSignal);
    this.pc.onicecandidate = this.pc.ontrack = this.pc.onconnectionstatechange = null;
    this.pc.close();
    this.remoteTracks.clear();
    this.midMap.clear();
  }

  #onServerMessage(msg) {
    if (this.#closed) return;
    switch (msg.type) {
      case 'streams':
        this.#wanted = Array.isArray(msg.streams) ? msg.streams : [];
        this.#negotiate();
        break;
      case 'candidate':
        this.#addRemoteCandidate(msg.candidate ? msg : null);
        break;
      case 'end-of-candidates':
        this.#addRemoteCandidate(null);
        break;
    }
  }

  async #negotiate() {
    if (this.#negotiating) {
      this.#dirty = true;
      return;
    }
    this.#negotiating = true;
    try {
      do {
        this.#dirty = false;
        this.#ensureSlots();
        // An observer alone in a room has nothing to send or receive yet; an
        // offer without m-lines would only be refused.
        if (this.pc.getTransceivers().length === 0) continue;
        const offer = await this.pc.createOffer();
        if (this.#closed) return;
        await this.pc.setLocalDescription(offer);
        const reply = this.#sig.request({ type: 'offer', sdp: this.pc.localDescription.sdp });
        if (!this.#offerSent) {
          // The offer frame is out: candidates gathered meanwhile may follow it.
          this.#offerSent = true;
          for (const c of this.#localCandidates.splice(0)) this.#sendCandidate(c);
        }
        const answer = await reply;
        if (this.#closed) return;
        await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
        this.#applyAnswerStreams(Array.isArray(answer.streams) ? answer.streams : []);
        if (!this.#haveAnswer) {
          this.#haveAnswer = true;
          for (const c of this.#remoteCandidates.splice(0)) await this.#applyRemoteCandidate(c);
        }
      } while (this.#dirty && !this.#closed);
    } catch (e) {
      if (!this.#closed) {
        const err = e instanceof SignalingError ? e : new SignalingError('negotiation-failed', String(e));
        this.dispatchEvent(Object.assign(new Event('error'), { error: err }));
      }
    } finally {
      this.#negotiating = false;
    }
  }

  /** Adds recvonly transceivers until each kind has one per wanted track.
   *  Existing slots are never removed: the server rebinds idle ones. */
  #ensureSlots() {
    for (const kind of KINDS) {
      const need = this.#wanted.filter((s) => s.kind === kind).length;
      let have = this.pc.getTransceivers().filter((t) => t.direction === 'recvonly' && t.receiver.track.kind === kind).length;
      for (; have < need; have++) {
        const tr = this.pc.addTransceiver(kind, { direction: 'recvonly' });
        preferCodec(tr, kind === 'audio' ? 'audio/opus' : 'video/VP8');
      }
    }
  }

  /** Rebuilds participant -> tracks from the answer's mid map. A receiver's
   *  track object belongs to its transceiver for life, so when the server
   *  rebinds a slot to someone else only this map tells us. */
  #applyAnswerStreams(streams) {
    this.answers.push({ at: performance.now(), streams });
    this.midMap.clear();
    const next = new Map();
    const byMid = new Map(this.pc.getTransceivers().filter((t) => t.mid !== null).map((t) => [t.mid, t]));
    for (const s of streams) {
      const tr = byMid.get(String(s.mid));
      if (!tr || !KINDS.includes(s.kind)) continue;
      this.midMap.set(String(s.mid), { participant: s.participant, kind: s.kind, track: s.track });
      if (!next.has(s.participant)) next.set(s.participant, { audio: null, video: null });
      next.get(s.participant)[s.kind] = tr.receiver.track;
    }
    this.remoteTracks = next;
    this.dispatchEvent(new Event('tracks'));
  }

  #onTrack(e) {
    // The msid stream id names the participant; the answer's streams list
    // normally got there first, this covers a server that omits it.
    const pid = e.streams[0]?.id;
    const kind = e.track.kind;
    if (!pid || pid === '-') return;
    const cur = this.remoteTracks.get(pid) || { audio: null, video: null };
    if (cur[kind] === e.track) return;
    cur[kind] = e.track;
    this.remoteTracks.set(pid, cur);
    this.dispatchEvent(new Event('tracks'));
  }

  #onLocalCandidate(c) {
    // null is the end of gathering; an empty candidate string is the
    // per-generation end marker, which the server does not need.
    if (c && !c.candidate) return;
    if (!this.#offerSent) this.#localCandidates.push(c);
    else this.#sendCandidate(c);
  }

  #sendCandidate(c) {
    if (c === null) this.#sig.send({ type: 'end-of-candidates' });
    else this.#sig.send({ type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
  }

  #addRemoteCandidate(msg) {
    const c = msg ? { candidate: msg.candidate, sdpMid: msg.sdpMid ?? null, sdpMLineIndex: msg.sdpMLineIndex ?? 0 } : null;
    if (!this.#haveAnswer) this.#remoteCandidates.push(c);
    else this.#applyRemoteCandidate(c);
  }

  async #applyRemoteCandidate(c) {
    try {
      // No argument = end of candidates (an empty object means the same in Firefox).
      if (c) await this.pc.addIceCandidate(c);
      else await this.pc.addIceCandidate();
    } catch (e) {
      console.warn('addIceCandidate failed', c, e);
    }
  }

  /** Stats of the receivers carrying @pid's tracks: {audio: RTCStatsReport|null, video: ...}. */
  async participantStats(pid) {
    const tracks = this.remoteTracks.get(pid);
    const out = { audio: null, video: null };
    if (!tracks) return out;
    for (const tr of this.pc.getTransceivers()) {
      for (const kind of KINDS) {
        if (tracks[kind] && tr.receiver.track === tracks[kind] && tr.currentDirection !== 'stopped')
          out[kind] = await tr.receiver.getStats();
      }
    }
    return out;
  }

  /** Stats of our own senders, for the local tile's uplink quality. */
  async senderStats() {
    const out = {};
    for (const [kind, sender] of Object.entries(this.#senders)) out[kind] = await sender.getStats();
    return out;
  }
}

/** Moves @mime to the front of the transceiver's codec list where supported. */
function preferCodec(transceiver, mime) {
  const kind = mime.split('/')[0];
  if (typeof RTCRtpReceiver.getCapabilities !== 'function' || !transceiver.setCodecPreferences) return;
  const caps = RTCRtpReceiver.getCapabilities(kind);
  if (!caps) return;
  const lower = mime.toLowerCase();
  const first = caps.codecs.filter((c) => c.mimeType.toLowerCase() === lower);
  if (!first.length) return;
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== lower);
  try {
    transceiver.setCodecPreferences([...first, ...rest]);
  } catch {
    // Not fatal: the default order already includes Opus and VP8.
  }
}
