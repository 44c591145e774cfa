// visit-protocol.js — what a visit adds to the signaling protocol
// (docs/signaling.md, "The visit"): the lobby, host controls, chat and
// shared files. Every message name and field the visit page relies on is
// here, so the page itself only sees the normalized events below.
//
// Client → server (each answered `ok` or `error` with the request's id):
//   admit {participant}              host: let a lobby connection in
//   mute-participant {participant, kind}
//   remove {participant}
//   chat {text}                      stored with the visit, broadcast to all
//   file-shared {file_id}            after POST /appointments/{id}/files
//   subscribe {session}              account pages: live notifications
// Server → client:
//   waiting {room, participant, since, position}   reply to join: in the lobby
//   joined {...}                     later, when admitted (the join's id)
//   lobby {waiting: [{id, user, name, role, since}]}    to hosts
//   muted-by-host {kind}             turn the track off, then send mute
//   removed {from: "room"|"lobby"}   the socket closes next
//   chat {message: {id, sender_id, participant, name, role, text, sent_at}}
//   file-shared {file: {id, filename, size, content_type, uploader: {id, name}, participant}}
//   notification {notification: {...}}
//   error not-admitted               an offer from the lobby

const REQUEST_TIMEOUT_MS = 10000;

export const MSG = Object.freeze({
  waiting: 'waiting',
  joined: 'joined',
  lobby: 'lobby',
  mutedByHost: 'muted-by-host',
  removed: 'removed',
  chat: 'chat',
  fileShared: 'file-shared',
  notification: 'notification',
});

/** Requests of a visit, over a connected Signaling @sig. Each resolves with `ok`. */
export const send = {
  admit: (sig, participant) => sig.request({ type: 'admit', participant }, REQUEST_TIMEOUT_MS),
  muteParticipant: (sig, participant, kind) => sig.request({ type: 'mute-participant', participant, kind }, REQUEST_TIMEOUT_MS),
  remove: (sig, participant) => sig.request({ type: 'remove', participant }, REQUEST_TIMEOUT_MS),
  chat: (sig, text) => sig.request({ type: 'chat', text }, REQUEST_TIMEOUT_MS),
  fileShared: (sig, fileId) => sig.request({ type: 'file-shared', file_id: fileId }, REQUEST_TIMEOUT_MS),
  subscribe: (sig, session) => sig.request({ type: 'subscribe', session }, REQUEST_TIMEOUT_MS),
};

/** A server time (ISO string or epoch seconds/ms) as epoch ms, or now. */
export function timeOf(v) {
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  const ms = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** A lobby entry: {participant, user, name, role, since (ms)}. */
export function lobbyEntries(msg) {
  return (Array.isArray(msg.waiting) ? msg.waiting : []).map((w) => ({
    participant: w.id ?? w.participant, user: w.user, name: w.name, role: w.role, since: timeOf(w.since),
  }));
}

/** A chat message: {id, senderId, participant, name, role, text, sentAt (ms)}. Also for GET .../messages items. */
export function chatMessage(m) {
  return {
    id: m.id ?? null, senderId: m.sender_id ?? null, participant: m.participant ?? null,
    name: m.name ?? '', role: m.role ?? '', text: m.text ?? '', sentAt: timeOf(m.sent_at),
  };
}

/** A shared file: {id, filename, size, contentType, uploader, participant}. Also for GET .../files items. */
export function sharedFile(f) {
  return {
    id: f.id, filename: f.filename ?? '', size: f.size ?? 0, contentType: f.content_type ?? '',
    uploader: f.uploader?.name ?? f.uploader_name ?? '', participant: f.participant ?? null,
  };
}
