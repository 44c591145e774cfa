// visit.js — the visit page (visit.html): the waiting room with its device
// and network checks, the lobby ("waiting for the doctor"), the call with
// its side panel (visit-panel.js) and what follows it (the summary).
//
//   visit.html?appointment=N       a signed-in party of appointment N: the
//                                  room token comes from
//                                  POST /appointments/N/room-token;
//                                  &start=1 joins as soon as the camera is on
//                                  (the doctor coming from the queue)
//   visit.html#invite=TOKEN        a one-time invite link: POST /invites/redeem,
//                                  with the session's bearer when signed in
//
// The call itself is room.js (shared with the plain call page, app.js).

import { t, applyStatic, initLanguageSelect } from './i18n.js';
import * as api from './api.js';
import { SignalingError } from './signaling.js';
import { Room } from './room.js';
import { getMedia, listDevices, mediaErrorCode } from './devices.js';
import { AudioCheck, checkNetwork } from './precheck.js';
import { MSG, timeOf, lobbyEntries, chatMessage, sharedFile } from './visit-protocol.js';
import * as panel from './visit-panel.js';
import * as ui from './ui.js';
import { notify, retranslateMessages, clearMessages } from './account-ui.js';
import { dateTime, time, duration, label } from './format.js';
import { summaryView } from './views.js';

const $ = (id) => document.getElementById(id);
const SCREENS = ['check', 'call', 'left'];
const INVITE_KEY = 'consilium.invite'; // sessionStorage: {invite, access} of the pending link
// Errors after which the server has closed the connection.
const FATAL = new Set(['invalid-token', 'token-expired', 'room-full', 'connection-failed']);

const state = {
  mode: null,            // 'appointment' | 'invite'
  appointmentId: null,
  appointment: null,     // appointment_json, as last read
  me: null,              // the signed-in user, or null
  invite: null,          // the invite link's token
  access: null,          // the last room token answer {token, room, role, name, lobby, host, ...}
  phase: 'idle',         // idle | joining | waiting | call | left
  waitingSince: 0,
  waitTimer: 0,
  leftReason: null,      // left | removed | ended | completed | lost
  lastError: null,
  net: null,             // checkNetwork() result
  netStep: null,         // the part running, and the figures so far
  netPartial: null,
  speakerHeard: null,
  autoStart: false,
  admitted: new Set(),   // lobby participants we sent admit for (auto-admit)
};
const room = new Room();
const audio = new AudioCheck();

// ---------------------------------------------------------------- texts

function renderTexts() {
  applyStatic();
  document.title = `${t(state.phase === 'call' ? 'call.heading' : 'check.heading')} · ${t('app.title')}`;
  retranslateMessages();
  room.renderControls();
  ui.setMediaState(room.mediaState);
  renderInfo();
  renderJoinButton();
  renderMicStatus();
  renderNet();
  panel.render();
  if (state.phase === 'left') renderLeft();
  const code = $('error').dataset.code;
  if (code) ui.showError(code);
}

function fail(code, detail) {
  state.lastError = code;
  ui.showError(code, detail);
}

function showScreen(name) {
  ui.showScreen(name, SCREENS);
}

// ---------------------------------------------------------------- who and what

/** The caller's part in this visit: patient, host (its doctor) or other. */
function part() {
  if (state.mode === 'invite') return 'guest';
  const a = state.appointment;
  if (!a || !state.me) return 'other';
  if (a.patient?.id === state.me.id) return 'patient';
  if (a.doctor?.id === state.me.id) return 'host';
  return 'other';
}

function renderInfo() {
  const a = state.appointment;
  $('visit-info').hidden = !a;
  if (!a) return;
  $('visit-when').textContent = t('visit.when', { when: dateTime(a.starts_at), end: time(a.ends_at), type: label('visit-type', a.visit_type) });
  const d = a.doctor ?? {};
  $('visit-with').textContent = part() === 'patient'
    ? t('visits.with', { who: [d.name, d.specialty, d.institution?.name].filter(Boolean).join(' · ') })
    : t('visits.patient', { name: a.patient?.name ?? '' });
}

function renderJoinButton() {
  const key = { patient: 'enter.patient', host: 'enter.host' }[part()] ?? 'enter.other';
  const b = $('join-button');
  b.textContent = t(state.phase === 'joining' ? 'join.joining' : key);
  const who = state.me?.display_name;
  $('enter-as').textContent = who ? t('enter.as', { name: who }) : '';
  $('guest-name-label').hidden = !(state.mode === 'invite' && !state.me);
}

// ---------------------------------------------------------------- devices

async function startPreview() {
  const button = $('join-button');
  const status = $('devices-status');
  button.disabled = true;
  status.textContent = t('join.devices.loading');
  try {
    audio.stop();
    room.stopLocal();
    room.local = await getMedia($('camera-select').value, $('mic-select').value);
    $('preview').srcObject = room.local;
    await listDevices(room.local, $('camera-select'), $('mic-select'));
    status.textContent = '';
    audio.start(room.local, (level) => {
      $('mic-level').value = level;
      renderMicStatus();
    });
    renderMicStatus();
  } catch (e) {
    status.textContent = '';
    fail(mediaErrorCode(e), String(e));
  }
  button.disabled = state.phase !== 'idle';
  if (state.autoStart && state.phase === 'idle') {
    state.autoStart = false;
    join();
  }
}

function renderMicStatus() {
  const el = $('mic-status');
  let key;
  if (!room.local?.getAudioTracks().length) key = 'check.mic.none';
  else if (audio.suspended) key = 'check.mic.click';
  else key = audio.peak > 0.05 ? 'check.mic.ok' : 'check.mic.quiet';
  if (el.dataset.key !== key) {
    el.dataset.key = key;
    el.textContent = t(key);
  }
}

async function testSpeaker() {
  const b = $('speaker-test');
  b.disabled = true;
  $('speaker-status').textContent = t('check.speaker.playing');
  try {
    await audio.playTone();
    $('speaker-status').textContent = '';
    $('speaker-answer').hidden = false;
    $('speaker-yes').focus();
  } catch (e) {
    $('speaker-status').textContent = t('check.speaker.failed');
    console.warn('test tone failed', e);
  } finally {
    b.disabled = false;
  }
}

function answerSpeaker(heard) {
  state.speakerHeard = heard;
  $('speaker-answer').hidden = true;
  $('speaker-status').textContent = t(heard ? 'check.speaker.ok' : 'check.speaker.bad');
}

// ---------------------------------------------------------------- network

async function runNetworkCheck() {
  const b = $('net-run');
  if (b.disabled) return;
  b.disabled = true;
  state.net = null;
  try {
    state.net = await checkNetwork((step, partial) => {
      state.netStep = step;
      state.netPartial = partial;
      renderNet();
    });
  } catch (e) {
    state.net = { error: true };
    console.warn('network check failed', e);
  } finally {
    state.netStep = null;
    state.netPartial = null;
    b.disabled = false;
    renderNet();
  }
}

function renderNet() {
  const n = state.net ?? state.netPartial;
  const ids = { rtt: 'net-rtt', download: 'net-down', upload: 'net-up', lost: 'net-lost' };
  const value = {
    rtt: n?.rttMs != null ? t('net.ms', { n: Math.round(n.rttMs) }) : null,
    download: n?.downKbps != null ? t('net.mbps', { n: (n.downKbps / 1000).toFixed(1) }) : null,
    upload: n?.upKbps != null ? t('net.mbps', { n: (n.upKbps / 1000).toFixed(1) }) : null,
    lost: n?.lost != null ? t('net.lost.value', { n: n.lost, of: n.probes }) : null,
  };
  const grades = { rtt: n?.grades?.rtt, download: n?.grades?.down, upload: n?.grades?.up, lost: n?.grades?.lost };
  for (const [k, id] of Object.entries(ids)) {
    const dd = $(id);
    dd.textContent = value[k] ?? (state.netStep === k ? t('net.measuring') : '—');
    dd.dataset.grade = grades[k] ?? '';
  }
  const v = $('net-verdict');
  v.dataset.verdict = n?.verdict ?? (n?.error ? 'error' : '');
  v.textContent = n?.verdict ? t(`net.verdict.${n.verdict}`) : n?.error ? t('net.verdict.error') : state.netStep ? t('net.running') : '';
}

// ---------------------------------------------------------------- joining

/** The room token: from the appointment, or from the invite (redeemed once, then kept for rejoins). */
async function getAccess() {
  if (state.mode === 'appointment') {
    const r = await api.post(`/appointments/${state.appointmentId}/room-token`);
    if (r.appointment) state.appointment = r.appointment;
    return r;
  }
  const saved = readInvite();
  if (saved?.access && Date.parse(saved.access.expires_at) > Date.now() + 30000) return saved.access;
  const body = { token: state.invite };
  if (!state.me) body.name = $('guest-name').value.trim();
  const r = await api.post('/invites/redeem', body);
  writeInvite({ invite: state.invite, access: r });
  return r;
}

function readInvite() {
  try {
    const v = JSON.parse(sessionStorage.getItem(INVITE_KEY) ?? 'null');
    return v?.invite === state.invite ? v : null;
  } catch {
    return null;
  }
}

function writeInvite(v) {
  try {
    sessionStorage.setItem(INVITE_KEY, JSON.stringify(v));
  } catch {
    // Storage off: a reload needs a new link.
  }
}

async function join() {
  if (state.phase !== 'idle') return;
  if (state.mode === 'invite' && !state.me && !$('guest-name').value.trim()) {
    fail('name-required');
    $('guest-name').focus();
    return;
  }
  ui.clearError();
  clearMessages();
  state.lastError = null;
  state.leftReason = null;
  setPhase('joining');
  try {
    state.access = await getAccess();
    renderInfo();
    const sig = await room.open();
    sig.addEventListener('close', onLobbyClosed);
    const reply = await room.request({ type: 'join', token: state.access.token });
    if (reply.type === MSG.waiting) enterLobby(reply);
    else enterCall(reply);
  } catch (e) {
    room.teardown();
    setPhase('idle');
    const code = e instanceof SignalingError || e instanceof api.ApiError ? e.code : 'connection-failed';
    // A used or expired room token from an invite: the link cannot be used again.
    if (state.mode === 'invite' && (code === 'token-expired' || code === 'invalid-token')) writeInvite({ invite: state.invite });
    fail(code, e.message);
  }
}

function setPhase(p) {
  state.phase = p;
  document.body.dataset.phase = p;
  $('join-button').disabled = p !== 'idle';
  $('join-button').hidden = p === 'waiting';
  renderJoinButton();
}

function enterLobby(msg) {
  setPhase('waiting');
  state.waitingSince = timeOf(msg.since);
  $('waiting-indicator').hidden = false;
  $('waiting-indicator').dataset.state = 'waiting';
  tickWaiting();
  clearInterval(state.waitTimer);
  state.waitTimer = setInterval(tickWaiting, 1000);
  $('waiting-leave').focus();
}

function tickWaiting() {
  $('waiting-elapsed').textContent = duration((Date.now() - state.waitingSince) / 1000);
}

function stopWaiting() {
  clearInterval(state.waitTimer);
  state.waitTimer = 0;
  $('waiting-indicator').hidden = true;
  delete $('waiting-indicator').dataset.state;
}

/** The socket closed while we were in the lobby (room.onClosed covers the call). */
function onLobbyClosed() {
  if (state.phase !== 'waiting') return;
  stopWaiting();
  room.teardown();
  setPhase('idle');
  if (state.leftReason === 'removed') showLeft('removed');
  else fail('connection-lost');
}

async function leaveLobby() {
  state.phase = 'left'; // the close that follows is ours
  stopWaiting();
  await room.leave();
  setPhase('idle');
}

function enterCall(msg) {
  stopWaiting();
  audio.stop();
  setPhase('call');
  state.admitted.clear();
  showScreen('call');
  document.title = `${t('call.heading')} · ${t('app.title')}`;
  panel.enter(!!(state.access?.host || msg.participant?.host));
  room.enter(msg);
}

// ---------------------------------------------------------------- in the call

function onMessage(msg) {
  switch (msg.type) {
    case MSG.joined:
      // Admitted from the lobby: the reply to our join, come late.
      if (state.phase === 'waiting') enterCall(msg);
      break;
    case MSG.lobby:
      panel.setLobby(lobbyEntries(msg));
      autoAdmit(lobbyEntries(msg));
      break;
    case MSG.mutedByHost:
      if (msg.kind === 'audio' || msg.kind === 'video') {
        room.setMuted(msg.kind, true);
        notify(`host.muted-you.${msg.kind}`);
      }
      break;
    case MSG.removed:
      state.leftReason = 'removed';
      break;
    case MSG.chat:
      if (msg.message) panel.addChat(chatMessage(msg.message));
      break;
    case MSG.fileShared:
      if (msg.file) panel.fileShared(sharedFile(msg.file));
      break;
    case 'participant-left':
      if (part() === 'patient') checkCompleted();
      break;
    case 'error':
      // Errors not tied to a request of ours (id null).
      if (FATAL.has(msg.code)) {
        room.teardown();
        stopWaiting();
        setPhase('idle');
        showScreen('check');
      }
      fail(msg.code, msg.message);
      break;
  }
}

/**
 * The doctor pressed Admit in the queue before opening the visit: the server
 * lets the patient in then; if the patient is still listed in the lobby when
 * we arrive, admit them here.
 */
function autoAdmit(entries) {
  const a = state.appointment;
  if (part() !== 'host' || a?.status !== 'in_consultation') return;
  for (const w of entries) {
    if (w.user !== String(a.patient?.id) || state.admitted.has(w.participant)) continue;
    state.admitted.add(w.participant);
    panel.admit(w.participant);
  }
}

/** After the doctor left: if the visit is completed, end our side and show the summary. */
async function checkCompleted() {
  if (!state.me || state.mode !== 'appointment') return false;
  try {
    state.appointment = await api.get(`/appointments/${state.appointmentId}`);
  } catch {
    return false;
  }
  if (state.appointment.status !== 'completed') return false;
  if (state.phase === 'call') {
    await room.leave();
    panel.leave();
    showLeft('completed');
  }
  return true;
}

async function onClosed() {
  room.teardown();
  panel.leave();
  if (state.leftReason === 'removed') {
    showLeft('removed');
    return;
  }
  if (await checkCompleted()) return;
  if (state.phase === 'left') return;
  showLeft('lost');
  fail('connection-lost');
}

async function leave() {
  await room.leave();
  panel.leave();
  showLeft('left');
}

/** The host saved the summary: the visit is over for everyone. */
async function onEnded(appointment) {
  state.appointment = appointment;
  await room.leave();
  panel.leave();
  showLeft('ended');
}

function showLeft(reason) {
  state.leftReason = reason;
  // A used invite has nothing left to come back to.
  if (state.mode === 'invite' && reason !== 'left' && reason !== 'lost') {
    try {
      sessionStorage.removeItem(INVITE_KEY);
    } catch {}
  }
  setPhase('left');
  showScreen('left');
  renderLeft();
  $('left-heading').focus();
}

function renderLeft() {
  const reason = state.leftReason ?? 'left';
  $('left-heading').textContent = t(`visit.left.${reason}`);
  document.title = `${t(`visit.left.${reason}`)} · ${t('app.title')}`;
  const s = state.appointment?.summary;
  const box = $('left-summary');
  box.hidden = !s;
  box.replaceChildren(...(s ? [summaryView(s)] : []));
  $('rejoin-button').hidden = ['ended', 'completed', 'removed'].includes(reason);
  const back = $('back-link');
  back.hidden = !state.me;
  back.href = part() === 'host' ? 'clinic.html#queue' : 'clinic.html#visits';
}

async function rejoin() {
  showScreen('check');
  setPhase('idle');
  if (!room.local) await startPreview();
  join();
}

// ---------------------------------------------------------------- test hook

function exposeTestHook() {
  room.exposeTestHook({
    get lastError() { return state.lastError; },
    get phase() { return state.phase; },
    get waitingSince() { return state.phase === 'waiting' ? state.waitingSince : null; },
    get leftReason() { return state.leftReason; },
    get appointment() { return state.appointment ? { id: state.appointment.id, status: state.appointment.status, summary: state.appointment.summary ?? null } : null; },
    get access() { return state.access ? { room: state.access.room, role: state.access.role, lobby: state.access.lobby, host: state.access.host } : null; },
    get chat() { return panel.view().chat; },
    get files() { return panel.view().files; },
    get lobby() { return panel.view().lobby; },
    get net() { return state.net ? { ...state.net } : null; },
    get micPeak() { return audio.peak; },
    get speakerHeard() { return state.speakerHeard; },
  });
}

// ---------------------------------------------------------------- start

/** Takes the invite token out of the address bar (it is a bearer secret), keeping it for this tab. */
function takeInvite() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('invite');
  if (token) {
    const saved = readInviteFor(token);
    writeInvite(saved ?? { invite: token });
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  try {
    return JSON.parse(sessionStorage.getItem(INVITE_KEY) ?? 'null')?.invite ?? null;
  } catch {
    return null;
  }
}

function readInviteFor(token) {
  state.invite = token;
  return readInvite();
}

async function loadMe() {
  if (!api.sessionToken()) return null;
  try {
    return (await api.get('/me')).user;
  } catch (e) {
    if (e.status === 401) api.setSessionToken(null);
    return null;
  }
}

async function init() {
  initLanguageSelect($('lang-select'), renderTexts);
  room.onFail = fail;
  room.onMessage = onMessage;
  room.onClosed = onClosed;
  exposeTestHook();
  panel.init({
    room,
    appointmentId: () => state.appointmentId,
    me: () => state.me,
    fail,
    onEnded,
  });

  $('error-dismiss').addEventListener('click', () => ui.clearError());
  $('camera-select').addEventListener('change', startPreview);
  $('mic-select').addEventListener('change', startPreview);
  $('speaker-test').addEventListener('click', testSpeaker);
  $('speaker-yes').addEventListener('click', () => answerSpeaker(true));
  $('speaker-no').addEventListener('click', () => answerSpeaker(false));
  $('net-run').addEventListener('click', runNetworkCheck);
  $('join-button').addEventListener('click', join);
  $('waiting-leave').addEventListener('click', leaveLobby);
  room.bindControls(leave);
  $('rejoin-button').addEventListener('click', rejoin);
  // Browsers start audio only after a gesture: the level meter waits for one.
  const wake = () => audio.resume()?.then(renderMicStatus);
  document.addEventListener('pointerdown', wake);
  document.addEventListener('keydown', wake);
  // Another invite link opened in this tab: start over with it.
  window.addEventListener('hashchange', () => {
    if (/(^#|&)invite=/.test(location.hash)) location.reload();
  });

  setPhase('idle');
  const params = new URLSearchParams(location.search);
  const invite = takeInvite();
  const id = params.get('appointment');
  state.me = await loadMe();
  if (id && /^[1-9][0-9]{0,18}$/.test(id)) {
    state.mode = 'appointment';
    state.appointmentId = Number(id);
  } else if (invite) {
    state.mode = 'invite';
    state.invite = invite;
  } else {
    showScreen('left');
    state.leftReason = 'none';
    $('left-heading').textContent = t('visit.left.none');
    $('rejoin-button').hidden = true;
    fail('no-visit');
    return;
  }

  if (state.mode === 'appointment') {
    if (!state.me) {
      showScreen('left');
      $('rejoin-button').hidden = true;
      $('back-link').href = 'account.html';
      $('back-link').textContent = t('clinic.signin.button');
      fail('signin-needed');
      return;
    }
    try {
      state.appointment = await api.get(`/appointments/${state.appointmentId}`);
    } catch (e) {
      fail(e.code, e.message);
    }
    if (state.appointment?.status === 'completed') {
      showLeft('completed');
      return;
    }
    state.autoStart = params.get('start') === '1' && part() === 'host';
  }
  showScreen('check');
  renderTexts();
  const auto = state.autoStart;
  await startPreview();
  // The doctor coming from the queue goes straight in; others get the check.
  if (!auto) runNetworkCheck();
}

init();
