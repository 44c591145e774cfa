// A userspace UDP relay placed between one browser page and consiliumd, so
// a test can inject packets on the call's own 5-tuple (libnice drops
// datagrams from addresses that are not an ICE candidate) and drop RTP in
// either direction. The page learns the relay through its SDP: an init
// script rewrites the server's loopback host candidates to the relay's port.
import dgram from 'node:dgram';

const isRtp = (b) => b.length >= 12 && b[0] >= 128 && b[0] <= 191 && !(b[1] >= 192 && b[1] <= 223);

export class UdpRelay {
  dropUp = 0;        // fraction of browser→server RTP dropped
  dropDown = 0;      // fraction of server→browser RTP dropped
  dropped = { up: 0, down: 0 };
  forwarded = { up: 0, down: 0 };
  lastUpRtp = null;  // a copy of the last SRTP packet the browser sent
  #front;            // faces the browser
  #back;             // faces consiliumd
  #client = null;
  #target;

  constructor(targetPort, targetAddress = '127.0.0.1') {
    this.#target = { port: targetPort, address: targetAddress };
  }

  async start() {
    this.#front = dgram.createSocket('udp4');
    this.#back = dgram.createSocket('udp4');
    await Promise.all([
      new Promise((r) => this.#front.bind(0, '127.0.0.1', r)),
      new Promise((r) => this.#back.bind(0, '127.0.0.1', r)),
    ]);
    this.#front.on('message', (msg, rinfo) => {
      this.#client = rinfo;
      if (isRtp(msg)) {
        this.lastUpRtp = Buffer.from(msg);
        if (Math.random() < this.dropUp) { this.dropped.up++; return; }
      }
      this.forwarded.up++;
      this.#back.send(msg, this.#target.port, this.#target.address);
    });
    this.#back.on('message', (msg) => {
      if (!this.#client) return;
      if (isRtp(msg) && Math.random() < this.dropDown) { this.dropped.down++; return; }
      this.forwarded.down++;
      this.#front.send(msg, this.#client.port, this.#client.address);
    });
    return this.#front.address().port;
  }

  /** Sends @buf to consiliumd as if the browser had sent it. */
  inject(buf) {
    return new Promise((r) => this.#back.send(buf, this.#target.port, this.#target.address, r));
  }

  close() {
    for (const s of [this.#front, this.#back]) try { s?.close(); } catch { /* closed */ }
  }
}

/**
 * Routes @page's media through relays: every loopback host candidate the
 * server sends is rewritten to a relay in front of it. Returns the Map of
 * server port -> UdpRelay (filled as candidates arrive). The page's own
 * candidates are withheld from the server. Call before goto().
 */
export async function relayPage(h, page) {
  const relays = new Map();
  await page.exposeFunction('__csRelayPort', async (port) => {
    if (!relays.has(port)) {
      const relay = new UdpRelay(port);
      const front = await relay.start();
      relay.frontPort = front;
      h.defer(`close relay ${port}`, () => relay.close());
      relays.set(port, relay);
    }
    return relays.get(port).frontPort;
  });
  await page.addInitScript(() => {
    const re = /(candidate:\S+ 1 udp \d+ 127\.0\.0\.1 )(\d+)( typ host)/gi;
    async function rewrite(text) {
      const ports = [...text.matchAll(re)].map((m) => Number(m[2]));
      const map = new Map();
      for (const p of ports) map.set(p, await window.__csRelayPort(p));
      return text.replace(re, (all, a, p, b) => a + map.get(Number(p)) + b);
    }
    const srd = RTCPeerConnection.prototype.setRemoteDescription;
    RTCPeerConnection.prototype.setRemoteDescription = async function (desc) {
      if (desc && desc.sdp) desc = { type: desc.type, sdp: await rewrite(desc.sdp) };
      return srd.call(this, desc);
    };
    // Hide the browser's own candidates from the server, so the server can
    // reach the browser only through the relay (as peer-reflexive).
    const wsSend = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (typeof data === 'string' && data.includes('candidate')) {
        const msg = JSON.parse(data);
        if (msg.type === 'candidate' && msg.candidate) return;
        if (msg.type === 'offer' && msg.sdp) {
          msg.sdp = msg.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
          data = JSON.stringify(msg);
        }
      }
      return wsSend.call(this, data);
    };
    const aic = RTCPeerConnection.prototype.addIceCandidate;
    RTCPeerConnection.prototype.addIceCandidate = async function (c) {
      if (c && c.candidate)
        c = { candidate: await rewrite(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
      return aic.call(this, c);
    };
  });
  return relays;
}

/** Sums a Prometheus counter over its label sets. */
export function metric(text, name) {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name + '{') || line.startsWith(name + ' '))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
