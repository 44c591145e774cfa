// signaling.js — the WebSocket side of docs/signaling.md: one JSON object per
// frame, requests matched to replies by `id`, everything else dispatched as
// events named after the message type.

export const SUBPROTOCOL = 'consilium-v1';

/** An `error` reply from the server, or a client-side failure with its own code. */
export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'SignalingError';
    this.code = code;
  }
}

export class Signaling extends EventTarget {
  #ws = null;
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, timer}

  /** Opens the socket; resolves once it is open, rejects with connection-failed. */
  connect(url, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, SUBPROTOCOL);
      } catch (e) {
        reject(new SignalingError('connection-failed', String(e)));
        return;
      }
      this.#ws = ws;
      let opened = false;
      const timer = setTimeout(() => {
        if (!opened) {
          ws.close();
          reject(new SignalingError('connection-failed', 'timeout'));
        }
      }, timeoutMs);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        resolve();
      };
      ws.onmessage = (ev) => this.#onMessage(ev);
      ws.onclose = (ev) => {
        clearTimeout(timer);
        this.#ws = null;
        this.#failPending(new SignalingError('connection-lost', `closed (${ev.code})`));
        if (!opened) reject(new SignalingError('connection-failed', `closed (${ev.code})`));
        else this.dispatchEvent(Object.assign(new Event('close'), { code: ev.code, reason: ev.reason }));
      };
    });
  }

  get open() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Sends a message without expecting a reply. */
  send(msg) {
    if (!this.open) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /** Sends a request with a fresh id; resolves with the reply, rejects with
   *  a SignalingError carrying the server's error code. */
  request(msg, timeoutMs = 15000) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.send({ ...msg, id })) {
        reject(new SignalingError('connection-lost', 'not connected'));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalingError('timeout', `${msg.type}: no reply`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  close(code = 1000) {
    if (this.#ws) this.#ws.close(code);
  }

  #onMessage(ev) {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn('signaling: unparsable frame ignored');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    const waiter = msg.id != null ? this.#pending.get(msg.id) : undefined;
    if (waiter) {
      this.#pending.delete(msg.id);
      clearTimeout(waiter.timer);
      if (msg.type === 'error') waiter.reject(new SignalingError(msg.code, msg.message));
      else waiter.resolve(msg);
      return;
    }
    // Unsolicited messages, and errors not tied to a request (id null),
    // e.g. invalid-token right before the server closes the socket.
    this.dispatchEvent(Object.assign(new Event(msg.type), { message: msg }));
    this.dispatchEvent(Object.assign(new Event('message'), { message: msg }));
  }

  #failPending(err) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(err);
    }
    this.#pending.clear();
  }
}
