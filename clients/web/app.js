// app.js — the Consilium web client: join screen, call screen, and the glue
// between signaling (signaling.js), the peer connection (call.js) and the
// DOM (ui.js). Protocol: docs/signaling.md.

import { t, applyStatic, getLocale, initLanguageSelect } from './i18n.js';
import { Signaling, SignalingError } from './signaling.js';
import { Call } from './call.js';
import { ReceiverQuality, senderQuality } from './quality.js';
import * as ui from './ui.js';

const $ = (id) => document.getElementById(id);
const QUALITY_INTERVAL_MS = 2000;
// Errors after which the server has closed the connection: back to the join screen.
const FATAL = new Set(['invalid-token', 'token-expired', 'room-full', 'connection-failed']);

const state = {
  token: null,
  claims: null,        // decoded token payload, for display only (the server verifies)
  local: null,         // MediaStream of camera + microphone
  sig: null,
  call: null,
  joined: false,
  room: null,
  self: null,          // our participant object from `joined`
  participants: new Map(), // id -> participant object (others)
  quality: new Map(),  // id -> ReceiverQuality
  qualityTimer: 0,
  mediaState: null,
  muted: { audio: false, video: false },
  lastError: null,
  log: [],             // recent server messages (type and participant), for tests
};
const tiles = new ui.Tiles();

// ---------------------------------------------------------------- language


function renderTexts() {
  applyStatic();
  document.title = t('app.title');
  renderWho();
  renderControls();
  ui.setMediaState(state.mediaState);
  tiles.refresh();
  const code = $('error').dataset.code;
  if (code) ui.showError(code);
}

// ---------------------------------------------------------------- token

/** Reads the JWT payload without verifying it: only to greet the user. */
function decodeClaims(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

function takeToken() {
  const params = new URLSearchParams(location.search);
  let token = params.get('token');
  if (token) {
    // Keep the bearer token out of the address bar and history once read.
    sessionStorage.setItem('consilium.token', token);
    params.delete('token');
    const q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
  } else {
    token = sessionStorage.getItem('consilium.token');
  }
  return token;
}

function useToken(token) {
  state.token = token.trim();
  state.claims = decodeClaims(state.token);
  $('token-form').hidden = true;
  $('join-form').hidden = false;
  renderWho();
  startPreview();
}

function renderWho() {
  const c = state.claims;
  $('join-who').textContent = c?.name ? t('join.as', { name: c.name, role: ui.roleLabel(c.role) }) : '';
  $('join-room').textContent = c?.room ? t('join.room', { room: c.room }) : '';
}

// ---------------------------------------------------------------- devices

function isObserver() {
  return state.claims?.role === 'observer';
}

async function getMedia(cameraId, micId) {
  const audio = micId ? { deviceId: { exact: micId } } : true;
  const video = {
    ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
    width: { ideal: 640 },
    height: { ideal: 360 },
    frameRate: { ideal: 30 },
  };
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (e) {
    if (e.name === 'NotAllowedError' || e.name === 'SecurityError') throw e;
    // One of the two devices may be missing or busy: publish what works.
    for (const c of [{ audio }, { video }]) {
      try {
        return await navigator.mediaDevices.getUserMedia(c);
      } catch {}
    }
    throw e;
  }
}

async function startPreview() {
  const button = $('join-button');
  const status = $('devices-status');
  if (isObserver()) {
    // Observers may not publish: no camera, no microphone.
    $('join-form').querySelector('.devices').hidden = true;
    $('join-form').querySelector('.preview-wrap').hidden = true;
    status.textContent = '';
    button.disabled = false;
    return;
  }
  button.disabled = true;
  status.textContent = t('join.devices.loading');
  try {
    stopLocal();
    state.local = await getMedia($('camera-select').value, $('mic-select').value);
    $('preview').srcObject = state.local;
    // Labels are only visible once permission is granted, so list afterwards.
    const devices = await navigator.mediaDevices.enumerateDevices();
    const track = (kind) => state.local.getTracks().find((x) => x.kind === kind);
    ui.fillDevices($('camera-select'), devices, 'videoinput', track('video')?.getSettings().deviceId);
    ui.fillDevices($('mic-select'), devices, 'audioinput', track('audio')?.getSettings().deviceId);
    status.textContent = '';
    ui.clearError();
  } catch (e) {
    status.textContent = '';
    ui.showError(e.name === 'NotAllowedError' || e.name === 'SecurityError' ? 'media-denied' : 'media-unavailable', String(e));
    state.lastError = $('error').dataset.code;
  }
  button.disabled = false;
}

function stopLocal() {
  for (const track of state.local?.getTracks() ?? []) track.stop();
  state.local = null;
}

// ---------------------------------------------------------------- joining

function fail(code, detail) {
  state.lastError = code;
  ui.showError(code, detail);
}

async function join() {
  const button = $('join-button');
  button.disabled = true;
  button.textContent = t('join.joining');
  ui.clearError();
  state.lastError = null;
  const sig = new Signaling();
  state.sig = sig;
  try {
    await sig.connect(`wss://${location.host}/ws`);
    sig.addEventListener('message', (ev) => onServerMessage(ev.message));
    sig.addEventListener('close', () => onSocketClosed());
    const joined = await sig.request({ type: 'join', token: state.token });
    onJoined(joined);
  } catch (e) {
    const code = e instanceof SignalingError ? e.code : 'connection-failed';
    teardown();
    ui.showScreen('join');
    fail(code, e.message);
  } finally {
    button.disabled = false;
    button.textContent = t('join.button');
  }
}

function onJoined(msg) {
  state.joined = true;
  state.room = msg.room;
  state.self = msg.participant;
  state.participants = new Map((msg.participants || []).map((p) => [p.id, p]));
  state.muted = { audio: false, video: false };
  record(msg);

  ui.showScreen('call');
  tiles.clear();
  tiles.upsert({ ...state.self }, { local: true });
  tiles.setTracks(state.self.id, { video: state.local?.getVideoTracks()[0] ?? null, audio: null });
  for (const p of state.participants.values()) tiles.upsert(p);
  renderControls();
  setMediaState('connecting');

  const local = state.local ?? new MediaStream();
  state.call = new Call(state.sig, local, Array.isArray(msg.ice_servers) ? msg.ice_servers : []);
  state.call.addEventListener('tracks', syncTracks);
  state.call.addEventListener('error', (ev) => fail(ev.error.code, ev.error.message));
  state.call.start([...state.participants.values()]);
  state.qualityTimer = setInterval(updateQuality, QUALITY_INTERVAL_MS);
  $('mic-button').focus();
}

function record(msg) {
  state.log.push({ type: msg.type, at: performance.now(), participant: msg.participant?.id ?? null, code: msg.code ?? null });
  if (state.log.length > 200) state.log.shift();
}

function onServerMessage(msg) {
  record(msg);
  switch (msg.type) {
    case 'participant-joined':
      state.participants.set(msg.participant.id, msg.participant);
      tiles.upsert(msg.participant);
      ui.announce(t('call.joined', { name: msg.participant.name }));
      break;
    case 'participant-updated': {
      const p = { ...state.participants.get(msg.participant.id), ...msg.participant };
      if (p.id === state.self?.id) break;
      state.participants.set(p.id, p);
      tiles.upsert(p);
      break;
    }
    case 'participant-left': {
      const id = msg.participant.id;
      const p = state.participants.get(id);
      state.participants.delete(id);
      state.quality.delete(id);
      tiles.remove(id);
      if (p) ui.announce(t('call.left-other', { name: p.name }));
      break;
    }
    case 'media-state':
      setMediaState(msg.state);
      if (msg.state === 'failed') fail('media-failed');
      break;
    case 'error':
      // Errors not tied to a request of ours (id null).
      if (FATAL.has(msg.code)) {
        teardown();
        ui.showScreen('join');
      }
      fail(msg.code, msg.message);
      break;
  }
}

function onSocketClosed() {
  if (!state.joined) return;
  teardown();
  ui.showScreen('left');
  fail('connection-lost');
}

function syncTracks() {
  const tracks = state.call.remoteTracks;
  for (const id of state.participants.keys()) tiles.setTracks(id, tracks.get(id) ?? { audio: null, video: null });
}

function setMediaState(s) {
  state.mediaState = s;
  ui.setMediaState(s);
}

// ---------------------------------------------------------------- controls

function renderControls() {
  const mic = $('mic-button');
  const cam = $('cam-button');
  const hasAudio = !!state.local?.getAudioTracks().length;
  const hasVideo = !!state.local?.getVideoTracks().length;
  mic.querySelector('.label').textContent = t(state.muted.audio ? 'call.mic.unmute' : 'call.mic.mute');
  cam.querySelector('.label').textContent = t(state.muted.video ? 'call.cam.on' : 'call.cam.off');
  // The label says what a press does (so no aria-pressed, which would
  // contradict a changing label); data-off drives the icon and colour.
  mic.dataset.off = String(state.muted.audio);
  cam.dataset.off = String(state.muted.video);
  mic.disabled = !hasAudio;
  cam.disabled = !hasVideo;
}

async function toggleMute(kind) {
  if (!state.call) return;
  const muted = !state.muted[kind];
  state.muted[kind] = muted;
  state.call.setEnabled(kind, !muted);
  renderControls();
  const self = { ...state.self, [`${kind}_muted`]: muted };
  state.self = self;
  tiles.upsert(self, { local: true });
  try {
    await state.sig.request({ type: 'mute', kind, muted });
  } catch (e) {
    if (e.code !== 'connection-lost') fail(e.code, e.message);
  }
}

async function leave() {
  if (!state.sig) return;
  const sig = state.sig;
  state.joined = false; // the close that follows is expected
  try {
    await sig.request({ type: 'leave' }, 2000);
  } catch {
    // Leaving anyway: closing the socket has the same effect on the server.
  }
  teardown();
  ui.showScreen('left');
  $('rejoin-button').focus();
}

/** Releases the call: peer connection, socket, remote tiles. Local media stays for a rejoin. */
function teardown() {
  clearInterval(state.qualityTimer);
  state.qualityTimer = 0;
  state.call?.close();
  state.call = null;
  if (state.sig) {
    const sig = state.sig;
    state.sig = null;
    sig.close();
  }
  state.joined = false;
  state.participants.clear();
  state.quality.clear();
  tiles.clear();
  setMediaState(null);
  // A rejoin publishes live tracks again.
  for (const track of state.local?.getTracks() ?? []) track.enabled = true;
}

// ---------------------------------------------------------------- quality

async function updateQuality() {
  const call = state.call;
  if (!call) return;
  try {
    for (const id of state.participants.keys()) {
      if (!state.quality.has(id)) state.quality.set(id, new ReceiverQuality());
      const q = state.quality.get(id).update(await call.participantStats(id));
      tiles.setQuality(id, q.level);
    }
    if (state.self) tiles.setQuality(state.self.id, senderQuality(await call.senderStats()));
  } catch (e) {
    // The call may have ended while stats were being gathered.
    if (state.call) console.warn('stats failed', e);
  }
}

// ---------------------------------------------------------------- test hook

/** Read-only view of the client's state for the end-to-end tests. */
function exposeTestHook() {
  const participantView = (p) => {
    const tracks = state.call?.remoteTracks.get(p.id);
    const mids = {};
    for (const [mid, s] of state.call?.midMap ?? []) if (s.participant === p.id) mids[s.kind] = mid;
    return Object.freeze({
      id: p.id, user: p.user, name: p.name, role: p.role,
      audioMuted: !!p.audio_muted, videoMuted: !!p.video_muted,
      mids: Object.freeze(mids),
      trackIds: Object.freeze({ audio: tracks?.audio?.id ?? null, video: tracks?.video?.id ?? null }),
    });
  };
  window.consilium = Object.freeze({
    get participantId() { return state.self?.id ?? null; },
    get joined() { return state.joined; },
    get room() { return state.room; },
    get remoteParticipants() { return [...state.participants.values()].map(participantView); },
    get pc() { return state.call?.pc ?? null; },
    get answers() { return state.call ? state.call.answers.map((a) => ({ ...a })) : []; },
    get mediaState() { return state.mediaState; },
    get lastError() { return state.lastError; },
    get log() { return state.log.map((m) => ({ ...m })); },
    get locale() { return getLocale(); },
  });
}

// ---------------------------------------------------------------- start

function init() {
  initLanguageSelect($('lang-select'), renderTexts);
  exposeTestHook();
  ui.showScreen('join');

  $('error-dismiss').addEventListener('click', () => ui.clearError());
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('token-input').value.trim();
    if (v) useToken(v);
  });
  $('camera-select').addEventListener('change', startPreview);
  $('mic-select').addEventListener('change', startPreview);
  $('join-button').addEventListener('click', join);
  $('mic-button').addEventListener('click', () => toggleMute('audio'));
  $('cam-button').addEventListener('click', () => toggleMute('video'));
  $('leave-button').addEventListener('click', leave);
  $('rejoin-button').addEventListener('click', () => {
    ui.showScreen('join');
    join();
  });
  $('enable-audio').addEventListener('click', () => {
    tiles.playAll();
    $('enable-audio').hidden = true;
  });
  tiles.onAudioBlocked = () => {
    $('enable-audio').hidden = false;
  };
  window.addEventListener('pagehide', () => {
    if (state.sig?.open) state.sig.send({ type: 'leave' });
  });

  const token = takeToken();
  if (token) {
    useToken(token);
  } else {
    $('token-form').hidden = false;
    ui.showError('no-token');
    state.lastError = 'no-token';
    $('token-input').focus();
  }
}

init();
