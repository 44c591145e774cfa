// views.js — pieces shown on both the clinic page and the visit page: a
// visit's summary and a stored file with its download button.

import { t } from './i18n.js';
import * as api from './api.js';
import { showApiError, busy } from './account-ui.js';
import { dateTime, el, button, bytes, saveBlob } from './format.js';

/** The doctor's summary of a completed visit. */
export function summaryView(s) {
  const box = el('section', { cls: 'summary', attrs: { 'data-testid': 'visit-summary' } });
  box.append(el('h4', { text: t('summary.heading') }));
  const dl = el('dl', { cls: 'facts' });
  dl.append(el('dt', { text: t('summary.diagnosis') }), el('dd', { text: s.diagnosis, attrs: { 'data-testid': 'summary-diagnosis' } }),
    el('dt', { text: t('summary.advice') }), el('dd', { text: s.advice, cls: 'pre', attrs: { 'data-testid': 'summary-advice' } }));
  box.append(dl);
  if (s.written_at) box.append(el('p', { text: t('summary.written', { when: dateTime(s.written_at) }), cls: 'help' }));
  return box;
}

/** One stored file: its name, size and who shared it, with a download button. */
export function fileItem(path, f) {
  const li = el('li', { cls: 'file', attrs: { 'data-testid': 'file', 'data-file': String(f.id) } });
  li.append(el('span', { text: t('files.item', { name: f.filename, size: bytes(f.size), who: f.uploader_name ?? '' }) }));
  li.append(button('files.download', { testid: 'file-download', onClick: async (ev) => {
    await busy(ev.currentTarget, async () => {
      try {
        saveBlob(await api.download(path), f.filename);
      } catch (e) {
        showApiError(e, 'files');
      }
    });
  } }));
  return li;
}
