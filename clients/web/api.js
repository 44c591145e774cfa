// api.js — the REST side of docs/api.md: JSON over fetch, the session token
// kept per tab, and every failure turned into an ApiError carrying the
// server's stable error code (the client picks its translated text by code).

const BASE = '/api/v1';
const SESSION_KEY = 'consilium.session';
// The call page (app.js) reads a room token from here when the URL has none.
const ROOM_TOKEN_KEY = 'consilium.token';

/** A failed call: @status is the HTTP status (0 when the server was not reached). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// sessionStorage, not localStorage: a bearer token should die with the tab.
function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session lasts until reload
  }
}

let memoryToken = null;

export function sessionToken() {
  return storage()?.getItem(SESSION_KEY) ?? memoryToken;
}

export function setSessionToken(token) {
  memoryToken = token;
  const s = storage();
  if (!s) return;
  if (token) s.setItem(SESSION_KEY, token);
  else s.removeItem(SESSION_KEY);
}

/** Hands a room token to the call page, keeping it out of the address bar. */
export function handRoomToken(token) {
  storage()?.setItem(ROOM_TOKEN_KEY, token);
}

/** Builds "?k=v&..." from @params, leaving out empty values. */
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Calls @method @path (below /api/v1). @body is sent as JSON when given,
 * @file (a File or Blob) as the raw body with its type.
 * Resolves with the parsed JSON (null for 204), or with the raw Response when
 * @raw is set (exports); rejects with ApiError.
 */
export async function call(method, path, { body, query, raw = false, file } = {}) {
  // Dates in queries are the user's calendar days: say in which zone.
  if (query && (query.from || query.to || query.date) && !query.tz)
    query = { ...query, tz: Intl.DateTimeFormat().resolvedOptions().timeZone };
  const headers = { Accept: 'application/json' };
  const token = sessionToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // A file goes as the raw body with its own type (file uploads).
  if (file) headers['Content-Type'] = file.type || 'application/octet-stream';
  let res;
  try {
    res = await fetch(BASE + path + queryString(query), {
      method,
      headers,
      body: file ?? (body === undefined ? undefined : JSON.stringify(body)),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  if (res.ok && raw) return res;
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // A proxy's HTML error page or a truncated body: fall through.
  }
  if (res.ok) return data ?? {};
  const err = data?.error;
  throw new ApiError(res.status, typeof err?.code === 'string' ? err.code : `http-${res.status}`,
    typeof err?.message === 'string' ? err.message : res.statusText);
}

export const get = (path, query) => call('GET', path, { query });

/** Every item of a paginated list (docs/api.md, Pagination). */
export async function getAll(path, query = {}) {
  const items = [];
  for (let cursor = null; ;) {
    const page = await get(path, { ...query, limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return items;
  }
}
export const post = (path, body) => call('POST', path, { body });
export const put = (path, body) => call('PUT', path, { body });
export const del = (path) => call('DELETE', path);

// Types the server stores, by file name extension, for browsers that give
// no type (DICOM files usually have none).
const TYPES = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg',
  txt: 'text/plain', dcm: 'application/dicom' };

/** Uploads @file as the raw body of POST @path?name=<file name>; resolves with the file object. */
export function upload(path, file, name = file.name) {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  const typed = file.type || !TYPES[ext] ? file : new Blob([file], { type: TYPES[ext] });
  return call('POST', path, { file: typed, query: { name } });
}

/** GET @path as a Blob (a stored file, with the session's bearer). */
export async function download(path) {
  const res = await call('GET', path, { raw: true });
  return res.blob();
}
