// quality.js — turns getStats() samples into good / fair / poor.
//
// Loss and frame rate are computed over the interval between two samples
// (cumulative counters would hide a recent problem behind a long good call);
// jitter and RTT are the browser's own smoothed values.

// Upper bounds for "good" and "fair"; anything worse is "poor".
const LIMITS = {
  loss: [0.02, 0.08],   // fraction of packets lost in the interval
  jitter: [0.03, 0.1],  // seconds
  rtt: [0.25, 0.5],     // seconds
  fps: [15, 8],         // lower bounds: received video frames per second
};

const RANK = { good: 0, fair: 1, poor: 2 };

function grade(value, [good, fair], higherIsBetter = false) {
  if (value == null || Number.isNaN(value)) return null;
  if (higherIsBetter) return value >= good ? 'good' : value >= fair ? 'fair' : 'poor';
  return value <= good ? 'good' : value <= fair ? 'fair' : 'poor';
}

function worst(grades) {
  const known = grades.filter(Boolean);
  if (!known.length) return 'unknown';
  return known.reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

function find(report, type) {
  if (!report) return null;
  for (const s of report.values()) if (s.type === type) return s;
  return null;
}

/** Keeps the previous sample of one receiver so each call yields the interval's figures. */
export class ReceiverQuality {
  #prev = { audio: null, video: null };

  /**
   * @param reports {audio: RTCStatsReport|null, video: RTCStatsReport|null}
   * @returns {{level: string, loss: number|null, jitter: number|null, rtt: number|null, fps: number|null}}
   */
  update(reports) {
    let lost = 0, received = 0, jitter = null, rtt = null, fps = null, sawPackets = false;
    for (const kind of ['audio', 'video']) {
      const inb = find(reports[kind], 'inbound-rtp');
      if (!inb) continue;
      const prev = this.#prev[kind];
      this.#prev[kind] = inb;
      if (inb.packetsReceived > 0) sawPackets = true;
      if (typeof inb.jitter === 'number') jitter = Math.max(jitter ?? 0, inb.jitter);
      if (prev && inb.timestamp > prev.timestamp) {
        lost += Math.max(0, (inb.packetsLost ?? 0) - (prev.packetsLost ?? 0));
        received += Math.max(0, (inb.packetsReceived ?? 0) - (prev.packetsReceived ?? 0));
        if (kind === 'video' && typeof inb.framesDecoded === 'number')
          fps = ((inb.framesDecoded - (prev.framesDecoded ?? 0)) * 1000) / (inb.timestamp - prev.timestamp);
      }
      const pair = find(reports[kind], 'candidate-pair');
      const r = pair?.currentRoundTripTime;
      if (typeof r === 'number') rtt = Math.max(rtt ?? 0, r);
    }
    if (!sawPackets) return { level: 'unknown', loss: null, jitter, rtt, fps };
    const loss = lost + received > 0 ? lost / (lost + received) : null;
    const level = worst([
      grade(loss, LIMITS.loss),
      grade(jitter, LIMITS.jitter),
      grade(rtt, LIMITS.rtt),
      grade(fps, LIMITS.fps, true),
    ]);
    return { level, loss, jitter, rtt, fps };
  }
}

/** Uplink quality from the server's receiver reports about our senders. */
export function senderQuality(reports) {
  const grades = [];
  for (const report of Object.values(reports)) {
    const rem = find(report, 'remote-inbound-rtp');
    if (rem) {
      grades.push(grade(rem.fractionLost, LIMITS.loss));
      grades.push(grade(rem.jitter, LIMITS.jitter));
      grades.push(grade(rem.roundTripTime, LIMITS.rtt));
    }
    const pair = find(report, 'candidate-pair');
    if (pair && pair.state === 'succeeded') grades.push(grade(pair.currentRoundTripTime, LIMITS.rtt));
  }
  return worst(grades);
}
