// devices.js — camera and microphone: opening them with a fallback when one
// is missing, and listing them in the pickers. Shared by the call page and
// the visit page's device check.

import * as ui from './ui.js';

/** getUserMedia for the chosen devices; publishes what works if one of the two fails. */
export async function getMedia(cameraId, micId) {
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

/** Fills the camera and microphone pickers, selecting what @stream uses. */
export async function listDevices(stream, cameraSelect, micSelect) {
  // Labels are only visible once permission is granted, so list afterwards.
  const devices = await navigator.mediaDevices.enumerateDevices();
  const track = (kind) => stream?.getTracks().find((x) => x.kind === kind);
  ui.fillDevices(cameraSelect, devices, 'videoinput', track('video')?.getSettings().deviceId);
  ui.fillDevices(micSelect, devices, 'audioinput', track('audio')?.getSettings().deviceId);
}

/** The error code for a failed getUserMedia. */
export function mediaErrorCode(e) {
  return e?.name === 'NotAllowedError' || e?.name === 'SecurityError' ? 'media-denied' : 'media-unavailable';
}
