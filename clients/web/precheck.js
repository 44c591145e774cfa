// precheck.js — the waiting room's checks before a visit: the microphone's
// level (Web Audio analyser on the preview stream), a test tone for the
// speakers, and a short network check against this server.
//
// What the network check measures, and how (kept honest in the page's
// text too):
//  - round trip: the median of 5 signaling pings over a WebSocket;
//  - upload: 8 pings padded to 60 000 bytes each over the same socket, timed
//    until the server has answered the last (so it includes one round trip);
//  - download: 4 parallel uncached fetches of one of this page's scripts;
//  - lost requests: 20 parallel small fetches (/healthz), each allowed 3 s.
// Over TCP a lost packet shows as delay, not as loss; real packet loss is
// measured from WebRTC statistics once the call runs (the bars on each tile).

import { Signaling } from './signaling.js';

const PINGS = 5;
const UPLOAD_MESSAGES = 8;
const UPLOAD_PAD = 60000;      // under the 65 536-byte message limit
const DOWNLOAD_FILE = 'i18n.js';
const DOWNLOAD_FETCHES = 4;
const PROBES = 20;
const PROBE_TIMEOUT_MS = 3000;

// A video visit sends and receives about 1 Mbit/s each way.
const LIMITS = {
  rtt: [150, 400],       // ms: good up to, fair up to
  down: [2000, 700],     // kbit/s: good from, fair from
  up: [1000, 400],
  lost: [0, 1],
};

/** Microphone level meter and speaker tone on one AudioContext. */
export class AudioCheck {
  #ctx = null;
  #source = null;
  #analyser = null;
  #timer = 0;
  #buf = null;
  level = 0;          // latest RMS level, 0..1
  peak = 0;           // highest level seen since start()

  /** Starts metering @stream's audio; @onLevel(level) about 10 times a second. */
  start(stream, onLevel) {
    this.stop();
    if (!stream?.getAudioTracks().length) return;
    this.#ctx ??= new AudioContext();
    this.#source = this.#ctx.createMediaStreamSource(stream);
    this.#analyser = this.#ctx.createAnalyser();
    this.#analyser.fftSize = 1024;
    this.#buf = new Float32Array(this.#analyser.fftSize);
    this.#source.connect(this.#analyser);
    this.peak = 0;
    this.#timer = setInterval(() => {
      this.#analyser.getFloatTimeDomainData(this.#buf);
      let sum = 0;
      for (const v of this.#buf) sum += v * v;
      // Speech sits around 0.05-0.2 RMS; stretch it over the meter.
      this.level = Math.min(1, Math.sqrt(sum / this.#buf.length) * 4);
      this.peak = Math.max(this.peak, this.level);
      onLevel(this.level);
    }, 100);
  }

  /** True while the browser holds audio back until the user interacts with the page. */
  get suspended() {
    return this.#ctx?.state === 'suspended';
  }

  resume() {
    return this.#ctx?.resume();
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = 0;
    this.#source?.disconnect();
    this.#source = null;
    this.#analyser = null;
  }

  /** Plays a one-second 440 Hz tone on the default speakers; resolves when it ends. */
  async playTone() {
    this.#ctx ??= new AudioContext();
    await this.#ctx.resume();
    const ctx = this.#ctx;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 440;
    const t0 = ctx.currentTime;
    // Fade in and out: no clicks.
    gain.gain.setValueAtTime(0, t0);
    gain.gain.linearRampToValueAtTime(0.25, t0 + 0.05);
    gain.gain.setValueAtTime(0.25, t0 + 0.9);
    gain.gain.linearRampToValueAtTime(0, t0 + 1);
    osc.connect(gain).connect(ctx.destination);
    await new Promise((resolve) => {
      osc.onended = resolve;
      osc.start(t0);
      osc.stop(t0 + 1);
    });
    osc.disconnect();
    gain.disconnect();
  }

  close() {
    this.stop();
    this.#ctx?.close();
    this.#ctx = null;
  }
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

function grade(value, [good, fair], higherIsBetter) {
  if (higherIsBetter) return value >= good ? 'good' : value >= fair ? 'fair' : 'poor';
  return value <= good ? 'good' : value <= fair ? 'fair' : 'poor';
}

async function probe(url) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
  try {
    const res = await fetch(url, { cache: 'no-store', signal: ctl.signal });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the network check; @onStep(name, partial) is called as each part
 * starts ('rtt', 'upload', 'download', 'lost') with the figures so far.
 * Resolves with
 * {rttMs, upKbps, downKbps, downBytes, upBytes, lost, probes, verdict, grades}.
 */
export async function checkNetwork(onStep = () => {}) {
  const out = { probes: PROBES };
  const sig = new Signaling();
  await sig.connect(`wss://${location.host}/ws`);
  try {
    onStep('rtt', out);
    const rtts = [];
    for (let i = 0; i < PINGS; i++) {
      const t0 = performance.now();
      await sig.request({ type: 'ping' }, 5000);
      rtts.push(performance.now() - t0);
    }
    out.rttMs = median(rtts);

    onStep('upload', out);
    // Unknown fields are ignored by the server: the padding is just bytes.
    const pad = 'x'.repeat(UPLOAD_PAD);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: UPLOAD_MESSAGES }, () => sig.request({ type: 'ping', pad }, 30000)));
    const ms = performance.now() - t0;
    out.upBytes = UPLOAD_MESSAGES * UPLOAD_PAD;
    out.upKbps = (out.upBytes * 8) / Math.max(ms, 1);
  } finally {
    sig.close();
  }

  onStep('download', out);
  const t1 = performance.now();
  const sizes = await Promise.all(Array.from({ length: DOWNLOAD_FETCHES }, async () => {
    const res = await fetch(DOWNLOAD_FILE, { cache: 'no-store' });
    return (await res.arrayBuffer()).byteLength;
  }));
  out.downBytes = sizes.reduce((a, b) => a + b, 0);
  out.downKbps = (out.downBytes * 8) / Math.max(performance.now() - t1, 1);

  onStep('lost', out);
  const ok = await Promise.all(Array.from({ length: PROBES }, () => probe('/healthz')));
  out.lost = ok.filter((x) => !x).length;

  out.grades = {
    rtt: grade(out.rttMs, LIMITS.rtt, false),
    up: grade(out.upKbps, LIMITS.up, true),
    down: grade(out.downKbps, LIMITS.down, true),
    lost: grade(out.lost, LIMITS.lost, false),
  };
  const g = Object.values(out.grades);
  out.verdict = g.includes('poor') ? 'poor' : g.includes('fair') ? 'fair' : 'good';
  return out;
}
