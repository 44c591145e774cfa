// account-ui.js — DOM helpers shared by the account pages (account.js,
// admin.js, audit.js): the error banner and notices, form checks, busy
// buttons, labels for roles and statuses.

import { t, hasKey } from './i18n.js';
import { ApiError, getAll } from './api.js';

export const $ = (id) => document.getElementById(id);

const hooks = { sessionLost: () => {} };
// What the banner and the notice show, to translate again on a language switch.
let shownError = null;
let shownNotice = null;

/** @fn runs when a signed-in call answers 401: the session is over. */
export function onSessionLost(fn) {
  hooks.sessionLost = fn;
}

/** Shows the banner with the text of i18n @key; data-code lets tests read it. */
export function showError(key, params = {}, code = key) {
  $('notice').hidden = true;
  shownNotice = null;
  shownError = { key, params };
  $('error-text').textContent = t(key, params);
  const box = $('error');
  box.dataset.code = code;
  box.dataset.key = key;
  box.hidden = false;
}

/**
 * Shows a failed API call. The text is the most specific of
 * "<context>.error.<code>", "api.error.<code>" and a generic one, so a 401
 * reads "wrong password" at login and "session ended" elsewhere.
 */
export function showApiError(err, context) {
  if (!(err instanceof ApiError)) {
    console.error(err);
    showError('api.error.unknown', { code: String(err?.message ?? err) }, 'client');
    return;
  }
  console.warn(`consilium api: ${err.status} ${err.code}: ${err.message}`);
  const keys = [`${context}.error.${err.code}`, `api.error.${err.code}`];
  const key = keys.find(hasKey);
  if (err.status === 401 && err.code === 'unauthorized' && !key?.startsWith(`${context}.`)) {
    hooks.sessionLost();
    showError('api.error.session-ended', {}, err.code);
    return;
  }
  if (key) showError(key, {}, err.code);
  else showError('api.error.unknown', { code: err.code }, err.code);
}

export function clearError() {
  shownError = null;
  const box = $('error');
  box.hidden = true;
  delete box.dataset.code;
  delete box.dataset.key;
}

/** A short success message (aria-live), replacing any error. */
export function notify(key, params = {}) {
  clearError();
  const n = $('notice');
  shownNotice = { key, params };
  n.textContent = t(key, params);
  n.dataset.key = key;
  n.hidden = false;
}

export function clearMessages() {
  clearError();
  shownNotice = null;
  $('notice').hidden = true;
  delete $('notice').dataset.key;
}

/** Translates the banner and the notice again (after a language switch). */
export function retranslateMessages() {
  if (shownError) $('error-text').textContent = t(shownError.key, shownError.params);
  if (shownNotice) $('notice').textContent = t(shownNotice.key, shownNotice.params);
}

/**
 * Runs the browser's own checks on @form (required, pattern, minlength...)
 * and focuses the first invalid field; true when valid.
 */
export function checkForm(form) {
  if (form.checkValidity()) return true;
  form.reportValidity();
  form.querySelector(':invalid')?.focus();
  return false;
}

/** Disables @button while @fn runs, so a double click does not send twice. */
export async function busy(button, fn) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function roleLabel(role) {
  return hasKey(`role.${role}`) ? t(`role.${role}`) : String(role);
}

export function verificationLabel(v) {
  return hasKey(`verification.${v}`) ? t(`verification.${v}`) : String(v);
}

/** Fills @select with @values labelled by @label(value), keeping the selection. */
export function fillSelect(select, values, label) {
  const keep = select.value;
  select.replaceChildren(...values.map((v) => new Option(label(v), v)));
  if (values.includes(keep)) select.value = keep;
}

/** A <td> (or <th scope=row> when @header) with @text. */
export function cell(text, header = false) {
  const el = document.createElement(header ? 'th' : 'td');
  if (header) el.scope = 'row';
  el.textContent = text ?? '';
  return el;
}

/** "2025-01-07T09:12:03.184512Z" -> "2025-01-07 09:12:03" (UTC, to the second). */
export function utcText(iso) {
  return typeof iso === 'string' ? iso.replace('T', ' ').slice(0, 19) : '';
}

/** The user's institution, or null (auditors may not list institutions). */
export async function loadInstitution(user) {
  if (user.institution_id == null || user.role === 'auditor') return null;
  try {
    return (await getAll('/institutions')).find((i) => i.id === user.institution_id) ?? null;
  } catch {
    return null; // only a label: the number is shown instead
  }
}
