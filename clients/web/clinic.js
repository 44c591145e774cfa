// clinic.js — the clinical page (clinic.html): role-aware tabs for booking
// (patients), the waiting queue and the weekly schedule (doctors), visits
// (everyone with visits) and referrals (doctors and clinic staff). Each tab
// is its own module with open/close/render; this file signs in, picks the
// tabs and follows the address bar's #hash. API: docs/api.md.

import { t, applyStatic, getLocale, initLanguageSelect } from './i18n.js';
import * as api from './api.js';
import { $, clearMessages, retranslateMessages, onSessionLost, roleLabel, loadInstitution, showApiError } from './account-ui.js';
import * as booking from './booking.js';
import * as visits from './visits.js';
import * as queue from './queue.js';
import * as schedule from './schedule.js';
import * as referrals from './referrals.js';
import * as noShows from './no-shows.js';
import * as notifications from './notifications.js';

const MODULES = { find: booking, visits, queue, schedule, referrals, 'no-shows': noShows };
// Which tabs each role gets, the first being the default.
const TABS = {
  patient: ['find', 'visits'],
  doctor: ['queue', 'visits', 'schedule', 'referrals'],
  specialist: ['queue', 'visits', 'schedule', 'referrals'],
  clinic_staff: ['visits', 'referrals'],
  admin: ['visits', 'no-shows'],
};

const state = {
  me: null,            // GET /me: {user, doctor}
  institution: null,
  tab: null,
};

function tabs() {
  return TABS[state.me?.user.role] ?? [];
}

function renderTexts() {
  applyStatic();
  retranslateMessages();
  renderTopbar();
  document.title = state.tab ? `${t(`tab.${state.tab}`)} · ${t('app.title')}` : t('app.title');
  if (state.tab && MODULES[state.tab]) MODULES[state.tab].render?.();
}

function renderTopbar() {
  const u = state.me?.user;
  $('whoami').textContent = u ? t('acct.whoami', { name: u.display_name, role: roleLabel(u.role) }) : '';
}

/** Shows tab @name (closing the one open), or the role's first tab. */
async function show(name) {
  const allowed = tabs();
  if (!allowed.includes(name)) name = allowed[0];
  if (!name) return;
  if (state.tab && state.tab !== name) MODULES[state.tab].close?.();
  const changed = state.tab !== name;
  state.tab = name;
  for (const s of document.querySelectorAll('section.tab')) s.hidden = s.id !== `${name}-tab`;
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.tab === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.body.dataset.tab = name;
  document.title = `${t(`tab.${name}`)} · ${t('app.title')}`;
  if (changed) $(`${name}-heading`)?.focus();
  try {
    await MODULES[name].open(context());
  } catch (e) {
    showApiError(e, name);
  }
}

function context() {
  return { me: state.me, user: state.me.user, institution: state.institution };
}

function signedOut() {
  notifications.stop();
  state.me = null;
  state.tab = null;
  for (const s of document.querySelectorAll('section.tab')) s.hidden = s.id !== 'signin-tab';
  $('tabs').hidden = true;
  renderTopbar();
}

/** Read-only view for the end-to-end tests. */
function exposeTestHook() {
  window.consiliumClinic = Object.freeze({
    get tab() { return state.tab; },
    get user() { return state.me ? { ...state.me.user } : null; },
    get error() { return $('error').hidden ? null : $('error').dataset.code; },
    get notice() { return $('notice').hidden ? null : $('notice').dataset.key; },
    get locale() { return getLocale(); },
    get notifications() { return notifications.received(); },
  });
}

async function init() {
  initLanguageSelect($('lang-select'), renderTexts);
  exposeTestHook();
  onSessionLost(signedOut);
  $('error-dismiss').addEventListener('click', clearMessages);
  for (const m of Object.values(MODULES)) m.init?.();

  if (!api.sessionToken()) {
    signedOut();
    return;
  }
  try {
    state.me = await api.get('/me');
  } catch (e) {
    if (e.status === 401) api.setSessionToken(null);
    else showApiError(e, 'clinic');
    signedOut();
    return;
  }
  if (state.me.totp_setup_required) {
    // Staff finish their sign-in (TOTP set-up) on the account page first.
    location.replace('account.html');
    return;
  }
  state.institution = await loadInstitution(state.me.user);
  renderTopbar();
  const allowed = tabs();
  for (const a of document.querySelectorAll('#tabs a')) a.hidden = !allowed.includes(a.dataset.tab);
  $('tabs').hidden = allowed.length === 0;
  if (!allowed.length) {
    signedOut();
    $('signin-heading').dataset.i18n = 'clinic.no-role';
    $('signin-heading').nextElementSibling.hidden = true;
    applyStatic();
    return;
  }
  // Live reminders; the open tab reloads its list after one.
  notifications.start(api.sessionToken(), () => {
    MODULES[state.tab]?.open(context()).catch(() => {});
  });
  window.addEventListener('hashchange', () => {
    clearMessages();
    show(location.hash.slice(1));
  });
  await show(location.hash.slice(1));
}

init();
