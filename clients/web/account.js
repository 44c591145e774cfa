// account.js — the account page (account.html): sign-in with TOTP,
// patient registration, password reset, TOTP set-up, the profile with
// password change and the doctor's professional profile, and the way into a
// consultation with a room token issued for the signed-in user. Admins and
// auditors get their panels from admin.js and audit.js. API: docs/api.md.

import { t, applyStatic, getLocale, initLanguageSelect } from './i18n.js';
import * as api from './api.js';
import { toSvg } from './qr.js';
import {
  $, showError, showApiError, clearMessages, notify, retranslateMessages, onSessionLost,
  checkForm, busy, roleLabel, verificationLabel, loadInstitution,
} from './account-ui.js';
import * as admin from './admin.js';
import * as audit from './audit.js';

const SCREENS = ['login', 'register', 'reset', 'totp', 'home'];
const STAFF = new Set(['doctor', 'specialist', 'clinic_staff', 'admin', 'auditor']);
const DOCTORS = new Set(['doctor', 'specialist']);
// Roles that may ask for a room token (docs/api.md, Room tokens).
const CALLERS = new Set(['patient', 'doctor', 'specialist', 'clinic_staff']);

const state = {
  screen: null,
  me: null,             // the last GET /me answer
  institution: null,    // the user's institution object, when readable
};

// ---------------------------------------------------------------- language


function renderTexts() {
  applyStatic();
  document.title = `${t(`${state.screen === 'home' ? 'home' : state.screen ?? 'login'}.heading`)} · ${t('app.title')}`;
  retranslateMessages();
  if (state.me) renderHome();
  admin.render();
  audit.render();
}

// ---------------------------------------------------------------- screens

function show(name) {
  for (const s of SCREENS) $(`${s}-screen`).hidden = s !== name;
  const changed = state.screen !== name;
  state.screen = name;
  document.body.dataset.screen = name;
  document.title = `${t(`${name}.heading`)} · ${t('app.title')}`;
  if (changed) $(`${name}-heading`).focus?.();
}

/** Signed out: the hash picks the screen (#register, #reset, else sign-in). */
function showSignedOut() {
  const name = { '#register': 'register', '#reset': 'reset' }[location.hash] ?? 'login';
  show(name);
  renderTopbar();
}

function renderTopbar() {
  const u = state.me?.user;
  $('whoami').textContent = u ? t('acct.whoami', { name: u.display_name, role: roleLabel(u.role) }) : '';
  $('logout-button').hidden = !u;
}

// ---------------------------------------------------------------- session

/** Loads GET /me and shows TOTP set-up or the home screen. */
async function enterSession() {
  const me = await api.get('/me');
  state.me = me;
  if (me.totp_setup_required) {
    renderTopbar();
    await beginTotp({ required: true });
    return;
  }
  state.institution = await loadInstitution(me.user);
  show('home');
  renderHome();
  if (me.user.role === 'admin') await admin.open();
  if (me.user.role === 'auditor') await audit.open();
}

/** Back to the sign-in screen, with @email filled in and a notice. */
function toSignIn(noticeKey, email = '') {
  history.replaceState(null, '', '#login');
  showSignedOut();
  if (email) $('login-email').value = email;
  notify(noticeKey);
  $(email ? 'login-password' : 'login-email').focus();
}

/** Forgets the session (the server side is revoked or gone already). */
function endSession() {
  api.setSessionToken(null);
  state.me = null;
  state.institution = null;
  admin.close();
  audit.close();
  $('login-password').value = '';
  $('login-code').value = '';
  $('login-totp').hidden = true;
  showSignedOut();
}

async function logout() {
  await busy($('logout-button'), async () => {
    try {
      await api.post('/auth/logout');
    } catch {
      // The session is forgotten here either way.
    }
    endSession();
    toSignIn('acct.signed-out');
  });
}

// ---------------------------------------------------------------- sign-in

async function login(ev) {
  ev.preventDefault();
  const form = $('login-form');
  const wantCode = !$('login-totp').hidden;
  $('login-code').required = wantCode;
  if (!checkForm(form)) return;
  clearMessages();
  await busy($('login-button'), async () => {
    const body = { email: $('login-email').value.trim(), password: $('login-password').value };
    if (wantCode) body.totp_code = $('login-code').value.trim();
    let r;
    try {
      r = await api.post('/auth/login', body);
    } catch (e) {
      if (e.code === 'totp-required') {
        // The password was right: the same request again, with a code.
        $('login-totp').hidden = false;
        $('login-code').required = true;
        $('login-code').focus();
        notify('login.totp.prompt');
        return;
      }
      if (wantCode) $('login-code').value = '';
      showApiError(e, 'login');
      return;
    }
    clearMessages();
    api.setSessionToken(r.token);
    $('login-password').value = '';
    $('login-code').value = '';
    $('login-totp').hidden = true;
    try {
      await enterSession();
    } catch (e) {
      showApiError(e, 'home');
    }
  });
}

async function register(ev) {
  ev.preventDefault();
  const form = $('register-form');
  if (!checkForm(form)) return;
  if ($('register-password').value !== $('register-confirm').value) {
    showError('acct.password.mismatch');
    $('register-confirm').focus();
    return;
  }
  await busy($('register-button'), async () => {
    try {
      await api.post('/auth/register', {
        email: $('register-email').value.trim(),
        password: $('register-password').value,
        display_name: $('register-name').value.trim(),
      });
    } catch (e) {
      showApiError(e, 'register');
      return;
    }
    const email = $('register-email').value.trim();
    form.reset();
    toSignIn('register.done', email);
  });
}

async function requestReset(ev) {
  ev.preventDefault();
  const form = $('reset-request-form');
  if (!checkForm(form)) return;
  await busy(form.querySelector('button'), async () => {
    try {
      await api.post('/auth/password-reset/request', { email: $('reset-email').value.trim() });
      notify('reset.requested');
      $('reset-token').focus();
    } catch (e) {
      showApiError(e, 'reset');
    }
  });
}

async function resetPassword(ev) {
  ev.preventDefault();
  const form = $('reset-form');
  if (!checkForm(form)) return;
  if ($('reset-password').value !== $('reset-confirm').value) {
    showError('acct.password.mismatch');
    return;
  }
  await busy(form.querySelector('button'), async () => {
    try {
      await api.post('/auth/password-reset', { token: $('reset-token').value.trim(), password: $('reset-password').value });
    } catch (e) {
      showApiError(e, 'reset');
      return;
    }
    form.reset();
    toSignIn('reset.done', $('reset-email').value.trim());
  });
}

// ---------------------------------------------------------------- TOTP

/** Starts (or restarts) TOTP set-up and shows the secret as QR code and text. */
async function beginTotp({ required }) {
  show('totp');
  $('totp-required').hidden = !required;
  $('totp-cancel').hidden = required;
  $('totp-form').reset();
  $('totp-qr').replaceChildren();
  $('totp-secret').textContent = '';
  $('totp-uri').textContent = '';
  let r;
  try {
    r = await api.post('/me/totp');
  } catch (e) {
    if (e.code === 'conflict') {
      // Already on (e.g. set up in another tab): nothing to do here.
      await enterSession();
      return;
    }
    showApiError(e, 'totp');
    return;
  }
  try {
    $('totp-qr').replaceChildren(toSvg(r.uri, { label: t('totp.qr.label') }));
  } catch (e) {
    // The key and link below still work without the picture.
    console.warn('QR code not drawn', e);
  }
  // Groups of four, as authenticator apps show keys; the raw value stays
  // in data-secret for copying without spaces.
  $('totp-secret').textContent = r.secret.match(/.{1,4}/g).join(' ');
  $('totp-secret').dataset.secret = r.secret;
  $('totp-uri').textContent = r.uri;
  $('totp-code').focus();
}

async function confirmTotp(ev) {
  ev.preventDefault();
  if (!checkForm($('totp-form'))) return;
  await busy($('totp-confirm'), async () => {
    try {
      await api.post('/me/totp/confirm', { code: $('totp-code').value.trim() });
    } catch (e) {
      $('totp-code').value = '';
      showApiError(e, 'totp');
      return;
    }
    await enterSession();
    notify('totp.done');
  });
}

// ---------------------------------------------------------------- home

function renderHome() {
  const { user, doctor } = state.me;
  renderTopbar();
  $('profile-name').textContent = user.display_name;
  $('profile-email').textContent = user.email;
  $('password-username').value = user.email;
  $('profile-role').textContent = roleLabel(user.role);
  $('profile-institution').textContent = state.institution?.name
    ?? (user.institution_id == null ? t('acct.none') : t('acct.number', { n: user.institution_id }));
  $('profile-totp').textContent = t(user.totp_enabled ? 'profile.totp.on' : 'profile.totp.off');
  // Staff set it up at first sign-in; for patients it is a choice.
  $('totp-enable').hidden = user.totp_enabled || STAFF.has(user.role);

  const isDoctor = DOCTORS.has(user.role);
  $('doctor-card').hidden = !isDoctor;
  const verification = isDoctor ? (doctor?.verification ?? 'none') : null;
  if (isDoctor) {
    const status = $('doctor-status');
    status.textContent = verificationLabel(verification);
    status.dataset.status = verification;
    // Fill the fields only when they are untouched, not to undo typing.
    if (doctor && !$('doctor-form').dataset.dirty) {
      $('doctor-licence').value = doctor.licence_number ?? '';
      $('doctor-specialty').value = doctor.specialty ?? '';
    }
  }
  $('join-card').hidden = !CALLERS.has(user.role);
  const clinicText = { patient: 'clinic.card.patient', doctor: 'clinic.card.doctor', specialist: 'clinic.card.doctor',
    clinic_staff: 'clinic.card.staff', admin: 'clinic.card.admin' }[user.role];
  $('clinic-card').hidden = !clinicText;
  $('clinic-text').textContent = clinicText ? t(clinicText) : '';
  $('invite-continue').hidden = !pendingInvite();
  $('join-unverified').hidden = !isDoctor || verification === 'verified';
  $('admin-panel').hidden = user.role !== 'admin';
  $('audit-panel').hidden = user.role !== 'auditor';
}

/** An invite link opened in this tab before signing in (visit.js keeps it). */
function pendingInvite() {
  try {
    return !!JSON.parse(sessionStorage.getItem('consilium.invite') ?? 'null')?.invite;
  } catch {
    return false;
  }
}

async function saveDoctorProfile(ev) {
  ev.preventDefault();
  if (!checkForm($('doctor-form'))) return;
  await busy($('doctor-save'), async () => {
    try {
      const r = await api.put(`/doctors/${state.me.user.id}/profile`, {
        licence_number: $('doctor-licence').value.trim(),
        specialty: $('doctor-specialty').value.trim(),
      });
      delete $('doctor-form').dataset.dirty;
      state.me = { ...state.me, doctor: r.doctor };
      renderHome();
      notify('doctor.saved');
    } catch (e) {
      showApiError(e, 'doctor');
    }
  });
}

async function changePassword(ev) {
  ev.preventDefault();
  const form = $('password-form');
  if (!checkForm(form)) return;
  if ($('password-new').value !== $('password-confirm').value) {
    showError('acct.password.mismatch');
    $('password-confirm').focus();
    return;
  }
  await busy($('password-button'), async () => {
    try {
      await api.post('/me/password', { old_password: $('password-old').value, new_password: $('password-new').value });
    } catch (e) {
      showApiError(e, 'password');
      return;
    }
    // The server revoked every session, this one included.
    const email = state.me.user.email;
    form.reset();
    endSession();
    toSignIn('password.changed', email);
  });
}

async function joinRoom(ev) {
  ev.preventDefault();
  if (!checkForm($('join-room-form'))) return;
  await busy($('join-room-button'), async () => {
    let r;
    try {
      r = await api.post('/room-tokens', { room: $('join-room-name').value.trim() });
    } catch (e) {
      showApiError(e, 'joincard');
      return;
    }
    api.handRoomToken(r.token);
    location.assign('./');
  });
}

// ---------------------------------------------------------------- test hook

/** Read-only view for the end-to-end tests. */
function exposeTestHook() {
  window.consiliumAccount = Object.freeze({
    get screen() { return state.screen; },
    get user() { return state.me ? { ...state.me.user } : null; },
    get doctor() { return state.me?.doctor ? { ...state.me.doctor } : null; },
    get error() { return $('error').hidden ? null : $('error').dataset.code; },
    get notice() { return $('notice').hidden ? null : $('notice').dataset.key; },
    get locale() { return getLocale(); },
  });
}

// ---------------------------------------------------------------- start

async function init() {
  initLanguageSelect($('lang-select'), renderTexts);
  exposeTestHook();
  onSessionLost(endSession);
  admin.init();
  audit.init();

  $('error-dismiss').addEventListener('click', clearMessages);
  $('logout-button').addEventListener('click', logout);
  $('login-form').addEventListener('submit', login);
  $('register-form').addEventListener('submit', register);
  $('reset-request-form').addEventListener('submit', requestReset);
  $('reset-form').addEventListener('submit', resetPassword);
  $('totp-form').addEventListener('submit', confirmTotp);
  $('totp-cancel').addEventListener('click', () => enterSession().catch((e) => showApiError(e, 'home')));
  $('totp-enable').addEventListener('click', () => beginTotp({ required: false }));
  $('doctor-form').addEventListener('input', () => { $('doctor-form').dataset.dirty = '1'; });
  $('doctor-form').addEventListener('submit', saveDoctorProfile);
  $('password-form').addEventListener('submit', changePassword);
  $('join-room-form').addEventListener('submit', joinRoom);
  window.addEventListener('hashchange', () => {
    if (!state.me) {
      clearMessages();
      showSignedOut();
    }
  });

  if (api.sessionToken()) {
    try {
      await enterSession();
      return;
    } catch (e) {
      // Expired or revoked since the last visit: sign in again.
      if (e.status !== 401) showApiError(e, 'home');
      endSession();
      return;
    }
  }
  showSignedOut();
}

init();
