// ui.js — DOM rendering: screens, the error banner, participant tiles.
// Holds no call state of its own; app.js tells it what to show.

import { t, hasKey } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** Shows screen @name (the element `<name>-screen`) out of @names. */
export function showScreen(name, names = ['join', 'call', 'left']) {
  for (const s of names) $(`${s}-screen`).hidden = s !== name;
  document.body.dataset.screen = name;
}

/** Shows the message for a server or client error @code; data-code lets tests read it.
 *  REST error codes (api.error.*) are understood too. */
export function showError(code, detail) {
  const key = [`error.${code}`, `api.error.${code}`].find(hasKey);
  $('error-text').textContent = key ? t(key) : t('error.unknown', { code });
  const box = $('error');
  box.dataset.code = code;
  box.hidden = false;
  if (detail) console.warn(`consilium: ${code}: ${detail}`);
}

export function clearError() {
  const box = $('error');
  box.hidden = true;
  delete box.dataset.code;
}

export function announce(text) {
  $('announcer').textContent = text;
}

export function setMediaState(state) {
  const el = $('media-state');
  el.dataset.state = state || '';
  el.textContent = state ? t(`media.${state}`) : '';
}

export function roleLabel(role) {
  return hasKey(`role.${role}`) ? t(`role.${role}`) : role;
}

/** Fills a <select> with devices of @kind, keeping @selected if still present. */
export function fillDevices(select, devices, kind, selected) {
  select.replaceChildren();
  const list = devices.filter((d) => d.kind === kind);
  list.forEach((d, i) => {
    const label = d.label || t('join.device.default', { kind: t(kind === 'videoinput' ? 'join.camera' : 'join.microphone'), n: i + 1 });
    select.append(new Option(label, d.deviceId, false, d.deviceId === selected));
  });
  if (!list.length) select.append(new Option(t('join.device.none'), ''));
  select.disabled = list.length === 0;
}

/** The participant tiles of the call screen, keyed by participant id. */
export class Tiles {
  #list = $('tiles');
  #sink = $('audio-sink');
  #tiles = new Map(); // id -> {li, video, audio, info, quality}
  onAudioBlocked = () => {};
  /** (li, info, local): called after each render, for page-specific controls. */
  onRender = null;

  /** Adds or refreshes the tile of @p ({id, name, role, audio_muted, video_muted}). */
  upsert(p, { local = false } = {}) {
    let tile = this.#tiles.get(p.id);
    if (!tile) {
      const li = $('tile-template').content.firstElementChild.cloneNode(true);
      li.dataset.participant = p.id;
      li.classList.toggle('local', local);
      const audio = local ? null : document.createElement('audio');
      if (audio) {
        audio.autoplay = true;
        audio.dataset.participant = p.id;
        this.#sink.append(audio);
      }
      tile = { li, video: li.querySelector('video'), audio, info: p, local, quality: 'unknown' };
      this.#tiles.set(p.id, tile);
      if (local) this.#list.prepend(li);
      else this.#list.append(li);
    }
    tile.info = { ...tile.info, ...p };
    this.#render(tile);
    this.#updateWaiting();
  }

  remove(id) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.li.remove();
    if (tile.audio) {
      tile.audio.srcObject = null;
      tile.audio.remove();
    }
    this.#tiles.delete(id);
    this.#updateWaiting();
  }

  clear() {
    for (const id of [...this.#tiles.keys()]) this.remove(id);
  }

  ids() {
    return [...this.#tiles.keys()];
  }

  /** Points the tile's media elements at @tracks ({audio, video}, either may be null). */
  setTracks(id, tracks) {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    setSource(tile.video, tracks.video);
    if (tile.audio && setSource(tile.audio, tracks.audio) && tracks.audio) {
      tile.audio.play().catch((e) => {
        if (e.name === 'NotAllowedError') this.onAudioBlocked();
      });
    }
    tile.li.classList.toggle('no-video', !tracks.video);
  }

  /** Retries playback after a user gesture (browsers without autoplay permission). */
  playAll() {
    for (const tile of this.#tiles.values()) if (tile.audio?.srcObject) tile.audio.play().catch(() => {});
  }

  setQuality(id, level) {
    const tile = this.#tiles.get(id);
    if (!tile || tile.quality === level) return;
    tile.quality = level;
    this.#renderQuality(tile);
  }

  /** Re-renders every text (after a language switch). */
  refresh() {
    for (const tile of this.#tiles.values()) this.#render(tile);
  }

  #render(tile) {
    const { li, info } = tile;
    const name = tile.local ? `${info.name} (${t('call.you')})` : info.name;
    li.querySelector('.name').textContent = name;
    li.querySelector('.role').textContent = roleLabel(info.role);
    li.querySelector('.avatar').textContent = initials(info.name);
    const ma = li.querySelector('.muted-audio');
    ma.hidden = !info.audio_muted;
    ma.textContent = t('call.muted.audio');
    const mv = li.querySelector('.muted-video');
    mv.hidden = !info.video_muted;
    mv.textContent = t('call.muted.video');
    li.classList.toggle('video-muted', !!info.video_muted);
    li.setAttribute('aria-label', [name, roleLabel(info.role), info.audio_muted && t('call.muted.audio'),
      info.video_muted && t('call.muted.video')].filter(Boolean).join(', '));
    this.#renderQuality(tile);
    this.onRender?.(li, info, tile.local);
  }

  #renderQuality(tile) {
    const q = tile.li.querySelector('.quality');
    q.dataset.quality = tile.quality;
    const label = t('quality.label', { q: t(`quality.${tile.quality}`) });
    q.setAttribute('aria-label', label);
    q.title = label;
  }

  #updateWaiting() {
    const remote = [...this.#tiles.values()].filter((x) => !x.local).length;
    $('waiting').hidden = remote > 0;
    this.#list.dataset.count = String(this.#tiles.size);
  }
}

/** Sets el.srcObject to a stream of @track unless it already shows it; true if changed. */
function setSource(el, track) {
  const cur = el.srcObject?.getTracks()[0] ?? null;
  if (cur === (track ?? null)) return false;
  el.srcObject = track ? new MediaStream([track]) : null;
  return true;
}

function initials(name = '') {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  // CJK names have no spaces: the first character is the usual avatar.
  if (words.length === 1) return [...words[0]].slice(0, /^[\x00-\x7f]+$/.test(words[0]) ? 2 : 1).join('').toUpperCase();
  return (words[0][0] + words[words.length - 1][0]).toUpperCase();
}
