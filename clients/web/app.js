// app.js — the Consilium web client: join screen, call screen, and the glue
// between signaling (signaling.js), the peer connection (call.js) and the
// DOM (ui.js). Protocol: docs/signaling.md.

import { t, applyStatic, initLanguageSelect } from './i18n.js';
import { SignalingError } from './signaling.js';
import { Room } from './room.js';
import { getMedia, listDevices, mediaErrorCode } from './devices.js';
import * as ui from './ui.js';

const $ = (id) => document.getElementById(id);
// Errors after which the server has closed the connection: back to the join screen.
const FATAL = new Set(['invalid-token', 'token-expired', 'room-full', 'connection-failed']);

const state = {
  token: null,
  claims: null,        // decoded token payload, for display only (the server verifies)
  lastError: null,
};
const room = new Room();

// ---------------------------------------------------------------- language


function renderTexts() {
  applyStatic();
  document.title = t('app.title');
  renderWho();
  room.renderControls();
  ui.setMediaState(room.mediaState);
  room.tiles.refresh();
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
    room.stopLocal();
    room.local = await getMedia($('camera-select').value, $('mic-select').value);
    $('preview').srcObject = room.local;
    await listDevices(room.local, $('camera-select'), $('mic-select'));
    status.textContent = '';
    ui.clearError();
  } catch (e) {
    status.textContent = '';
    ui.showError(mediaErrorCode(e), String(e));
    state.lastError = $('error').dataset.code;
  }
  button.disabled = false;
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
  try {
    await room.open();
    const joined = await room.request({ type: 'join', token: state.token });
    ui.showScreen('call');
    room.enter(joined);
  } catch (e) {
    const code = e instanceof SignalingError ? e.code : 'connection-failed';
    room.teardown();
    ui.showScreen('join');
    fail(code, e.message);
  } finally {
    button.disabled = false;
    button.textContent = t('join.button');
  }
}

function onServerMessage(msg) {
  // Errors not tied to a request of ours (id null).
  if (msg.type !== 'error') return;
  if (FATAL.has(msg.code)) {
    room.teardown();
    ui.showScreen('join');
  }
  fail(msg.code, msg.message);
}

function onSocketClosed() {
  room.teardown();
  ui.showScreen('left');
  fail('connection-lost');
}

async function leave() {
  if (!room.sig) return;
  await room.leave();
  ui.showScreen('left');
  $('rejoin-button').focus();
}

// ---------------------------------------------------------------- start

function init() {
  initLanguageSelect($('lang-select'), renderTexts);
  room.onFail = fail;
  room.onMessage = onServerMessage;
  room.onClosed = onSocketClosed;
  room.exposeTestHook({ get lastError() { return state.lastError; } });
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
  room.bindControls(leave);
  $('rejoin-button').addEventListener('click', () => {
    ui.showScreen('join');
    join();
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
