// visit-panel.js — the side panel of a visit's call: chat, shared files,
// and for the visit's doctor (the host) the lobby with Admit, invite links,
// mute and remove on each participant's tile, and the form that ends the
// visit with its summary. Messages: visit-protocol.js.

import { t } from './i18n.js';
import * as api from './api.js';
import { $, notify, busy, checkForm } from './account-ui.js';
import { time, duration, el, label } from './format.js';
import { openDialog } from './dialog.js';
import { fileItem } from './views.js';
import { send, chatMessage, sharedFile } from './visit-protocol.js';

const MAX_FILE_BYTES = 10 * 1024 * 1024; // [clinic] file_max_bytes default; the server decides

const state = {
  hooks: null,         // {room, appointmentId, me, fail, onEnded}
  host: false,
  chat: [],            // chatMessage() objects, in order
  files: [],           // sharedFile() objects
  lobby: [],           // lobbyEntries()
  ticker: 0,
};

/**
 * @hooks: {room: Room, appointmentId(): number|null, me(): user|null,
 * fail(code, detail), onEnded(appointment)}.
 */
export function init(hooks) {
  state.hooks = hooks;
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendChat();
  });
  $('file-input').addEventListener('change', () => shareFile());
  $('invite-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    createInvite();
  });
  $('invite-copy').addEventListener('click', copyInvite);
  $('end-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    endVisit();
  });
  hooks.room.tiles.onRender = tileControls;
}

/** Called on entering the call: @host is the token's host flag. */
export async function enter(host) {
  state.host = host;
  state.chat = [];
  state.files = [];
  state.lobby = [];
  const signedIn = !!state.hooks.me();
  const visit = state.hooks.appointmentId();
  for (const id of ['lobby-panel', 'invite-panel', 'end-panel']) $(id).hidden = !host;
  $('invite-result').hidden = true;
  // Files go through the REST API: only with an account.
  $('file-label').hidden = !signedIn || !visit;
  $('files-signin').hidden = signedIn;
  $('file-status').textContent = '';
  render();
  clearInterval(state.ticker);
  state.ticker = setInterval(renderLobbyTimes, 1000);
  if (signedIn && visit) await Promise.all([loadChat(visit), loadFiles(visit)]);
}

export function leave() {
  clearInterval(state.ticker);
  state.ticker = 0;
}

export function render() {
  renderChat();
  renderFiles();
  renderLobby();
  state.hooks?.room.tiles.refresh();
}

/** Read-only copies for the test hook. */
export function view() {
  return {
    chat: state.chat.map((m) => ({ ...m })),
    files: state.files.map((f) => ({ ...f })),
    lobby: state.lobby.map((w) => ({ ...w })),
  };
}

// ---------------------------------------------------------------- chat

async function loadChat(visit) {
  try {
    const r = await api.get(`/appointments/${visit}/messages`);
    for (const m of r.items) addChat(chatMessage(m));
  } catch (e) {
    console.warn('chat history not loaded', e);
  }
}

/** Adds @m (a chatMessage) unless already shown (history and broadcast may overlap). */
export function addChat(m) {
  if (m.id != null && state.chat.some((x) => x.id === m.id)) return;
  state.chat.push(m);
  state.chat.sort((a, b) => (a.id ?? Infinity) - (b.id ?? Infinity) || a.sentAt - b.sentAt);
  renderChat();
}

function isMine(m) {
  const room = state.hooks.room;
  const me = state.hooks.me();
  return (m.participant && m.participant === room.self?.id) || (me && m.senderId === me.id);
}

function renderChat() {
  const log = $('chat-log');
  log.replaceChildren(...state.chat.map((m) => {
    const li = el('li', { cls: 'chat-msg', attrs: { 'data-testid': 'chat-message', 'data-mine': String(!!isMine(m)) } });
    const meta = el('p', { cls: 'chat-meta' });
    meta.append(el('span', { text: m.name, cls: 'chat-name' }), el('span', { text: ` · ${label('role', m.role)} · ${time(new Date(m.sentAt).toISOString())}`, cls: 'help' }));
    li.append(meta, el('p', { text: m.text, cls: 'chat-text' }));
    return li;
  }));
  log.scrollTop = log.scrollHeight;
}

async function sendChat() {
  const input = $('chat-input');
  const text = input.value.trim();
  const sig = state.hooks.room.sig;
  if (!text || !sig) return;
  await busy($('chat-send'), async () => {
    try {
      await send.chat(sig, text);
      input.value = '';
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
    }
  });
  input.focus();
}

// ---------------------------------------------------------------- files

async function loadFiles(visit) {
  try {
    const r = await api.get(`/appointments/${visit}/files`);
    state.files = r.items.map(sharedFile);
    renderFiles();
  } catch (e) {
    console.warn('files not loaded', e);
  }
}

/** A `file-shared` announcement (a sharedFile). */
export function fileShared(f) {
  if (!state.files.some((x) => x.id === f.id)) state.files.push(f);
  renderFiles();
  if (!f.participant || f.participant !== state.hooks.room.self?.id) notify('files.shared-by', { name: f.uploader, file: f.filename });
}

function renderFiles() {
  const visit = state.hooks?.appointmentId();
  const signedIn = !!state.hooks?.me();
  $('file-list').replaceChildren(...state.files.map((f) => {
    const stored = { id: f.id, filename: f.filename, size: f.size, uploader_name: f.uploader };
    if (signedIn && visit) return fileItem(`/appointments/${visit}/files/${f.id}`, stored);
    const li = el('li', { cls: 'file', attrs: { 'data-testid': 'file', 'data-file': String(f.id) } });
    li.append(el('span', { text: t('files.item', { name: f.filename, size: '', who: f.uploader }) }));
    return li;
  }));
  $('files-empty').hidden = state.files.length > 0;
}

async function shareFile() {
  const input = $('file-input');
  const file = input.files[0];
  const visit = state.hooks.appointmentId();
  if (!file || !visit) return;
  const status = $('file-status');
  if (file.size > MAX_FILE_BYTES) {
    state.hooks.fail('payload-too-large');
    input.value = '';
    return;
  }
  status.textContent = t('files.uploading', { name: file.name });
  input.disabled = true;
  try {
    const stored = await api.upload(`/appointments/${visit}/files`, file);
    state.files.push(sharedFile(stored));
    renderFiles();
    // Tell the others; the server describes the file from the database.
    if (state.hooks.room.sig) await send.fileShared(state.hooks.room.sig, stored.id);
    status.textContent = t('files.done', { name: file.name });
  } catch (e) {
    status.textContent = '';
    state.hooks.fail(e.code ?? 'internal', e.message);
  } finally {
    input.disabled = false;
    input.value = '';
  }
}

// ---------------------------------------------------------------- lobby (host)

/** The server's lobby list (lobbyEntries()). */
export function setLobby(entries) {
  state.lobby = entries;
  renderLobby();
}

function renderLobby() {
  const list = $('lobby-list');
  list.replaceChildren(...state.lobby.map((w) => {
    const li = el('li', { cls: 'lobby-entry', attrs: { 'data-testid': 'lobby-entry', 'data-participant': w.participant } });
    li.append(el('span', { text: `${w.name} (${label('role', w.role)}) ` }),
      el('span', { cls: 'help lobby-time', attrs: { 'data-since': String(w.since) } }));
    const b = el('button', { text: t('lobby.admit'), cls: 'btn small primary',
      attrs: { type: 'button', 'data-testid': 'lobby-admit', 'data-participant': w.participant } });
    b.addEventListener('click', () => admit(w.participant, b));
    li.append(b);
    return li;
  }));
  $('lobby-empty').hidden = state.lobby.length > 0;
  renderLobbyTimes();
}

function renderLobbyTimes() {
  for (const span of document.querySelectorAll('#lobby-list .lobby-time')) {
    span.textContent = t('lobby.waited', { time: duration((Date.now() - Number(span.dataset.since)) / 1000) });
  }
}

/** Lets @participant in from the lobby (for a patient the server also admits the appointment). */
export async function admit(participant, btn = null) {
  const sig = state.hooks.room.sig;
  if (!sig) return;
  const run = async () => {
    try {
      await send.admit(sig, participant);
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
    }
  };
  if (btn) await busy(btn, run);
  else await run();
}

// ---------------------------------------------------------------- tiles (host)

/** Mute and remove buttons on each remote tile, for the host (Tiles.onRender). */
function tileControls(li, info, local) {
  let box = li.querySelector('.host-controls');
  if (!state.host || local) {
    box?.remove();
    return;
  }
  if (!box) {
    box = el('div', { cls: 'host-controls' });
    const mk = (testid, onClick) => {
      const b = el('button', { cls: 'btn small', attrs: { type: 'button', 'data-testid': testid, 'data-participant': info.id } });
      b.addEventListener('click', () => onClick(b));
      box.append(b);
      return b;
    };
    mk('host-mute-audio', (b) => hostMute(li.dataset.participant, 'audio', b));
    mk('host-mute-video', (b) => hostMute(li.dataset.participant, 'video', b));
    mk('host-remove', (b) => hostRemove(li.dataset.participant, b));
    li.append(box);
  }
  const [ma, mv, rm] = box.children;
  ma.textContent = t('host.mute.audio', { name: info.name });
  ma.disabled = !!info.audio_muted;
  mv.textContent = t('host.mute.video', { name: info.name });
  mv.disabled = !!info.video_muted;
  rm.textContent = t('host.remove', { name: info.name });
}

async function hostMute(participant, kind, btn) {
  const sig = state.hooks.room.sig;
  if (!sig) return;
  await busy(btn, async () => {
    try {
      await send.muteParticipant(sig, participant, kind);
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
    }
  });
}

async function hostRemove(participant, btn) {
  const p = state.hooks.room.participants.get(participant);
  const ok = await openDialog({
    titleKey: 'host.remove.title', titleParams: { name: p?.name ?? '' }, textKey: 'host.remove.text',
    submitKey: 'host.remove.confirm', danger: true,
  });
  const sig = state.hooks.room.sig;
  if (!ok || !sig) return;
  await busy(btn, async () => {
    try {
      await send.remove(sig, participant);
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
    }
  });
}

// ---------------------------------------------------------------- invite (host)

async function createInvite() {
  const visit = state.hooks.appointmentId();
  if (!visit) return;
  await busy($('invite-button'), async () => {
    const body = { role: $('invite-role').value };
    const lbl = $('invite-label').value.trim();
    if (lbl) body.label = lbl;
    let r;
    try {
      r = await api.post(`/appointments/${visit}/invites`, body);
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
      return;
    }
    const link = new URL(`visit.html#invite=${encodeURIComponent(r.token)}`, location.href).href;
    $('invite-link').value = link;
    $('invite-link').dataset.role = r.role;
    $('invite-expires').textContent = t('invite.expires', { when: time(r.expires_at) });
    $('invite-result').hidden = false;
    $('invite-label').value = '';
    $('invite-link').select();
  });
}

async function copyInvite() {
  const input = $('invite-link');
  try {
    await navigator.clipboard.writeText(input.value);
    notify('invite.copied');
  } catch {
    // No clipboard permission: leave it selected for Ctrl+C.
    input.select();
  }
}

// ---------------------------------------------------------------- end (host)

async function endVisit() {
  const form = $('end-form');
  const visit = state.hooks.appointmentId();
  if (!visit || !checkForm(form)) return;
  await busy($('end-submit'), async () => {
    let a;
    try {
      a = await api.post(`/appointments/${visit}/complete`, {
        diagnosis: $('end-diagnosis').value.trim(),
        advice: $('end-advice').value.trim(),
      });
    } catch (e) {
      state.hooks.fail(e.code ?? 'internal', e.message);
      return;
    }
    form.reset();
    await state.hooks.onEnded(a);
  });
}
