// no-shows.js — the admin's "Missed visits" tab: no-show counts of the last
// 30 days, per doctor and per patient (GET /admin/no-shows).

import { t } from './i18n.js';
import * as api from './api.js';
import { $, cell, roleLabel } from './account-ui.js';
import { day } from './format.js';

let stats = null;

export async function open() {
  stats = await api.get('/admin/no-shows');
  render();
}

export function render() {
  if (!stats) return;
  $('no-shows-summary').textContent = t('no-shows.summary', {
    n: stats.no_shows, visits: stats.visits, from: day(stats.from), to: day(stats.to),
  });
  const rows = [
    ...stats.by_doctor.map((x) => [x.name, roleLabel('doctor'), x.no_shows]),
    ...stats.by_patient.map((x) => [x.name, roleLabel('patient'), x.no_shows]),
  ];
  $('no-shows-table').tBodies[0].replaceChildren(...rows.map(([name, role, n]) => {
    const tr = document.createElement('tr');
    tr.append(cell(name, true), cell(role), cell(String(n)));
    return tr;
  }));
}
