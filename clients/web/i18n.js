// i18n.js — UI strings (English, Simplified Chinese) and locale choice.
// Static text in index.html carries data-i18n* attributes; scripts call t().

const STRINGS = {
  en: {
    'app.title': 'Consilium',
    'app.tagline': 'Secure video consultation',
    'lang.label': 'Language',

    'join.heading': 'Join the consultation',
    'join.as': 'You are joining as {name} ({role}).',
    'join.room': 'Consultation: {room}',
    'join.token.label': 'Invitation token',
    'join.token.help': 'Paste the token from your invitation link.',
    'join.token.use': 'Continue',
    'join.camera': 'Camera',
    'join.microphone': 'Microphone',
    'join.device.none': 'None',
    'join.device.default': '{kind} {n}',
    'join.preview': 'Your camera preview',
    'join.button': 'Join consultation',
    'join.joining': 'Joining…',
    'join.devices.loading': 'Starting camera and microphone…',

    'call.heading': 'Consultation',
    'call.you': 'You',
    'call.waiting': 'Waiting for others to join…',
    'call.mic.mute': 'Mute microphone',
    'call.mic.unmute': 'Unmute microphone',
    'call.cam.off': 'Turn camera off',
    'call.cam.on': 'Turn camera on',
    'call.leave': 'Leave',
    'call.left': 'You left the consultation.',
    'call.rejoin': 'Join again',
    'call.enable-audio': 'Turn on sound',
    'call.participants': 'Participants',
    'call.muted.audio': 'Microphone off',
    'call.muted.video': 'Camera off',
    'call.joined': '{name} joined',
    'call.left-other': '{name} left',

    'media.connecting': 'Connecting…',
    'media.connected': 'Connected',
    'media.failed': 'Connection failed',
    'media.closed': 'Disconnected',

    'quality.label': 'Connection quality: {q}',
    'quality.good': 'good',
    'quality.fair': 'fair',
    'quality.poor': 'poor',
    'quality.unknown': 'measuring',

    'role.patient': 'patient',
    'role.doctor': 'doctor',
    'role.specialist': 'specialist',
    'role.clinic': 'clinic',
    'role.guest': 'guest',
    'role.observer': 'observer',

    'error.title': 'Something went wrong',
    'error.dismiss': 'Dismiss',
    'error.no-token': 'This link has no invitation token. Paste the token from your invitation.',
    'error.invalid-token': 'This invitation is not valid. Ask the clinic for a new link.',
    'error.token-expired': 'This invitation has expired. Ask the clinic for a new link.',
    'error.room-full': 'This consultation is full. Please try again later.',
    'error.forbidden': 'Your role is not allowed to do this.',
    'error.bad-state': 'The call got out of step with the server. Please leave and join again.',
    'error.invalid-sdp': 'Your browser sent a media description the server could not read.',
    'error.unsupported-sdp': 'Your browser does not support the audio or video formats needed (Opus, VP8).',
    'error.not-joined': 'You are not in the consultation yet.',
    'error.already-joined': 'You are already in this consultation.',
    'error.bad-json': 'The server could not read a message from this page.',
    'error.bad-message': 'The server could not read a message from this page.',
    'error.unknown-type': 'The server did not understand a message from this page.',
    'error.message-too-large': 'A message from this page was too large.',
    'error.internal': 'The server had a problem. Please try again.',
    'error.connection-failed': 'Could not reach the server. Check your connection and try again.',
    'error.connection-lost': 'The connection to the server was lost.',
    'error.media-denied': 'Camera and microphone access was refused. Allow it in your browser settings and reload.',
    'error.media-unavailable': 'No camera or microphone could be started.',
    'error.media-failed': 'The audio/video connection failed. Check your network and join again.',
    'error.unknown': 'Unexpected error ({code}).',
  },

  'zh-CN': {
    'app.title': 'Consilium 远程会诊',
    'app.tagline': '安全的视频会诊',
    'lang.label': '语言',

    'join.heading': '加入会诊',
    'join.as': '您将以 {name}（{role}）的身份加入。',
    'join.room': '会诊：{room}',
    'join.token.label': '邀请令牌',
    'join.token.help': '请粘贴邀请链接中的令牌。',
    'join.token.use': '继续',
    'join.camera': '摄像头',
    'join.microphone': '麦克风',
    'join.device.none': '无',
    'join.device.default': '{kind} {n}',
    'join.preview': '摄像头预览',
    'join.button': '加入会诊',
    'join.joining': '正在加入…',
    'join.devices.loading': '正在启动摄像头和麦克风…',

    'call.heading': '会诊',
    'call.you': '我',
    'call.waiting': '正在等待其他人加入…',
    'call.mic.mute': '关闭麦克风',
    'call.mic.unmute': '打开麦克风',
    'call.cam.off': '关闭摄像头',
    'call.cam.on': '打开摄像头',
    'call.leave': '离开',
    'call.left': '您已离开会诊。',
    'call.rejoin': '重新加入',
    'call.enable-audio': '打开声音',
    'call.participants': '参会者',
    'call.muted.audio': '麦克风已关闭',
    'call.muted.video': '摄像头已关闭',
    'call.joined': '{name} 已加入',
    'call.left-other': '{name} 已离开',

    'media.connecting': '正在连接…',
    'media.connected': '已连接',
    'media.failed': '连接失败',
    'media.closed': '已断开',

    'quality.label': '连接质量：{q}',
    'quality.good': '良好',
    'quality.fair': '一般',
    'quality.poor': '较差',
    'quality.unknown': '检测中',

    'role.patient': '患者',
    'role.doctor': '医生',
    'role.specialist': '专家',
    'role.clinic': '诊所',
    'role.guest': '访客',
    'role.observer': '旁听者',

    'error.title': '出现问题',
    'error.dismiss': '关闭',
    'error.no-token': '此链接没有邀请令牌。请粘贴邀请中的令牌。',
    'error.invalid-token': '此邀请无效。请联系诊所获取新的链接。',
    'error.token-expired': '此邀请已过期。请联系诊所获取新的链接。',
    'error.room-full': '此会诊人数已满，请稍后再试。',
    'error.forbidden': '您的角色无权进行此操作。',
    'error.bad-state': '通话与服务器状态不一致。请离开后重新加入。',
    'error.invalid-sdp': '浏览器发送的媒体描述无法被服务器解析。',
    'error.unsupported-sdp': '您的浏览器不支持所需的音视频格式（Opus、VP8）。',
    'error.not-joined': '您尚未加入会诊。',
    'error.already-joined': '您已在此会诊中。',
    'error.bad-json': '服务器无法读取本页面发送的消息。',
    'error.bad-message': '服务器无法读取本页面发送的消息。',
    'error.unknown-type': '服务器无法理解本页面发送的消息。',
    'error.message-too-large': '本页面发送的消息过大。',
    'error.internal': '服务器出现问题，请重试。',
    'error.connection-failed': '无法连接服务器。请检查网络后重试。',
    'error.connection-lost': '与服务器的连接已断开。',
    'error.media-denied': '摄像头和麦克风权限被拒绝。请在浏览器设置中允许后刷新页面。',
    'error.media-unavailable': '无法启动摄像头或麦克风。',
    'error.media-failed': '音视频连接失败。请检查网络后重新加入。',
    'error.unknown': '意外错误（{code}）。',
  },
};

export const LOCALES = [
  { code: 'en', label: 'English' },
  { code: 'zh-CN', label: '中文' },
];

let current = 'en';

/** Picks the first supported locale from a navigator.languages-like list. */
export function pickLocale(languages) {
  for (const lang of languages || []) {
    const l = String(lang).toLowerCase();
    if (l === 'en' || l.startsWith('en-')) return 'en';
    // Any Chinese preference gets Simplified Chinese, the only one we ship.
    if (l === 'zh' || l.startsWith('zh-')) return 'zh-CN';
  }
  return 'en';
}

export function setLocale(code) {
  current = STRINGS[code] ? code : 'en';
  document.documentElement.lang = current;
}

export function getLocale() {
  return current;
}

/** Translates @key, replacing {name} placeholders from @params. */
export function t(key, params = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

export function hasKey(key) {
  return key in STRINGS.en;
}

/** Re-translates static markup: data-i18n (text), data-i18n-aria (aria-label),
 *  data-i18n-placeholder and data-i18n-title. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]'))
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]'))
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
  for (const el of root.querySelectorAll('[data-i18n-title]'))
    el.setAttribute('title', t(el.dataset.i18nTitle));
}
