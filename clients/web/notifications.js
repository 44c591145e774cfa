// notifications.js — live in-app notifications on the clinic page: a
// signaling socket subscribed with the session (`subscribe`, docs/signaling.md)
// turns each `notification` (e.g. a visit reminder) into a notice, and
// reconnects while the page is open.

import { hasKey } from './i18n.js';
import { Signaling } from './signaling.js';
import { notify } from './account-ui.js';
import { send, MSG } from './visit-protocol.js';
import { dateTime } from './format.js';

const RETRY_MS = [2000, 5000, 15000, 60000];

const state = {
  session: null,
  sig: null,
  retries: 0,
  timer: 0,
  onNotice: () => {},
  received: [],        // for the test hook
};

/** Subscribes with @session; @onNotice(notification) runs after each one is shown. */
export function start(session, onNotice = () => {}) {
  state.session = session;
  state.onNotice = onNotice;
  connect();
}

export function stop() {
  state.session = null;
  clearTimeout(state.timer);
  state.sig?.close();
  state.sig = null;
}

export function received() {
  return state.received.map((n) => ({ ...n }));
}

async function connect() {
  if (!state.session) return;
  const sig = new Signaling();
  state.sig = sig;
  try {
    await sig.connect(`wss://${location.host}/ws`);
    sig.addEventListener(MSG.notification, (ev) => show(ev.message.notification));
    sig.addEventListener('close', retry);
    await send.subscribe(sig, state.session);
    state.retries = 0;
  } catch (e) {
    sig.close();
    // A session the server no longer knows: the page finds out on its next call.
    if (e.code === 'unauthorized') return;
    retry();
  }
}

function retry() {
  if (!state.session) return;
  clearTimeout(state.timer);
  state.timer = setTimeout(connect, RETRY_MS[Math.min(state.retries++, RETRY_MS.length - 1)]);
}

function show(n) {
  if (!n || typeof n.kind !== 'string') return;
  state.received.push(n);
  const key = `notification.${n.kind}`;
  const when = n.data?.starts_at ?? n.appointment?.starts_at;
  const doctor = n.appointment?.doctor?.name ?? '';
  notify(hasKey(key) ? key : 'notification.other', { when: when ? dateTime(when) : '', doctor, kind: n.kind });
  state.onNotice(n);
}
