#!/usr/bin/env node
// bench-booking.mjs — throughput and latency of the booking API: N
// concurrent clients (default 100), each a signed-in patient on its own
// keep-alive HTTPS connection, book random slots as fast as answers come
// back (POST /api/v1/appointments; a taken slot answers 409 slot-taken,
// which counts as served), then browse slots (GET /doctors/{id}/slots).
// Besides req/s and latency it prints the CPU time per request spent in
// consiliumd (TLS, HTTP, JSON) and in PostgreSQL (all backends).
// Starts its own PostgreSQL cluster and consiliumd on loopback, runs a
// bounded time per phase and stops by itself. Not a test: it prints figures.
//
//   CONSILIUMD=build/server/consiliumd node tests/perf/bench-booking.mjs \
//     [--clients 100] [--seconds 15] [--pool 4]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { parseArgs } from 'node:util';

import { Cluster, createHarness, makeWorld, startServer } from '../integration/api/lib.mjs';
import { makeDoctor, makeInstitution, makePatient, openSlots } from '../integration/api/clinic-lib.mjs';

const { values: opt } = parseArgs({ options: {
  clients: { type: 'string', default: '100' },
  seconds: { type: 'string', default: '15' },
  pool: { type: 'string', default: '4' },
} });
const CLIENTS = Number(opt.clients), SECONDS = Number(opt.seconds);

function call(agent, server, method, path, token, body) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : null;
    const headers = { authorization: `Bearer ${token}` };
    if (data) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
    const t0 = process.hrtime.bigint();
    const req = https.request(`${server.url}/api/v1${path}`, { method, headers, agent, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, us: Number(process.hrtime.bigint() - t0) / 1000 }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** CPU seconds (user + system) used so far by @pids. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* exited */ }
  }
  return ticks / 100;
}

/** The postmaster of @cluster and its children (backends, writers). */
function postgresPids(cluster) {
  const master = fs.readFileSync(`${cluster.dir}/data/postmaster.pid`, 'utf8').split('\n')[0].trim();
  const kids = execFileSync('pgrep', ['-P', master], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return [master, ...kids];
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

let serverPids = [], dbPids = [];

async function phase(name, clients, seconds, step) {
  const cpu0 = [cpuSeconds(serverPids), cpuSeconds(dbPids = [...new Set([...dbPids, ...postgresPids(phase.cluster)])])];
  const lat = [];
  const statuses = {};
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(clients.map(async (c) => {
    while (Date.now() < end) {
      const r = await step(c);
      lat.push(r.us);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
  }));
  const wall = (Date.now() - t0) / 1000;
  const cpu = [cpuSeconds(serverPids) - cpu0[0], cpuSeconds(dbPids) - cpu0[1]];
  lat.sort((a, b) => a - b);
  const ms = (us) => (us / 1000).toFixed(1);
  console.log(`${name.padEnd(28)} ${String(lat.length).padStart(8)} ${(lat.length / wall).toFixed(0).padStart(8)}`
    + ` ${ms(pct(lat, 0.5)).padStart(7)} ${ms(pct(lat, 0.99)).padStart(7)} ${ms(lat[lat.length - 1]).padStart(7)}`
    + ` ${(cpu[0] * 1e6 / lat.length).toFixed(0).padStart(8)} ${(cpu[1] * 1e6 / lat.length).toFixed(0).padStart(8)}   ${JSON.stringify(statuses)}`);
  return statuses;
}

const cleanups = [];
const h = createHarness({ name: 'bench-booking', after: (fn) => cleanups.push(fn) });
try {
  const cluster = await Cluster.create(h);
  const server = await startServer(h, cluster, { db: { pool_size: opt.pool } });
  serverPids = execFileSync('pgrep', ['-f', server.confPath], { encoding: 'utf8' }).split('\n').filter(Boolean);
  phase.cluster = cluster;
  const w = await makeWorld(server);
  const hospital = await makeInstitution(server, w.admin, 'Bench Hospital', 'hospital');
  // Five doctors with 4,000 five-minute slots each: more than the run can take.
  const doctors = [];
  const slotIds = [];
  for (let i = 0; i < 5; i++) {
    const d = await makeDoctor(server, w.admin, { key: `bench${i}`, institutionId: hospital.id });
    await openSlots(server, d, { count: 1, startInMs: 86400000 });
    const start = new Date(Math.ceil((Date.now() + 2 * 86400000) / 60000) * 60000);
    const endT = new Date(start.getTime() + 4000 * 5 * 60000);
    const res = await call(undefined, server, 'POST', `/doctors/${d.id}/roster/exceptions`, d.token,
      { kind: 'extra', starts_at: start.toISOString(), ends_at: endT.toISOString(), slot_minutes: 5, visit_type: 'video' });
    assert.equal(res.status, 201);
    doctors.push(d);
  }
  for (const row of await cluster.sql(`SELECT id FROM slots WHERE doctor_id IN (${doctors.map((d) => d.id)})`))
    slotIds.push(Number(row));
  const patients = [];
  for (let i = 0; i < CLIENTS; i += 20)
    patients.push(...await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, (_, j) => makePatient(server, `b${i + j}`))));
  const clients = patients.map((p) => ({ p, agent: new https.Agent({ keepAlive: true, maxSockets: 1 }) }));

  console.log(`booking API, ${CLIENTS} concurrent clients, ${SECONDS} s per phase, ${slotIds.length} slots,`
    + ` pool_size ${opt.pool}, ${os.cpus().length} CPUs (${os.cpus()[0].model.trim()})`);
  console.log(`${'phase'.padEnd(28)} ${'requests'.padStart(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)}`
    + ` ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'srv us/r'.padStart(8)} ${'db us/r'.padStart(8)}   statuses`);
  const pick = () => slotIds[Math.floor(Math.random() * slotIds.length)];
  const booked = await phase('POST /appointments', clients, SECONDS,
    (c) => call(c.agent, server, 'POST', '/appointments', c.p.token, { slot_id: pick() }));
  const day = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
  await phase('GET /doctors/{id}/slots', clients, SECONDS,
    (c) => call(c.agent, server, 'GET', `/doctors/${doctors[Math.floor(Math.random() * 5)].id}/slots?from=${day}&to=${day}`, c.p.token));

  // Whatever the load, the database holds one booking per slot.
  const [dups] = await cluster.sql(`SELECT count(*) FROM (SELECT slot_id FROM appointments WHERE status <> 'cancelled'
    GROUP BY slot_id HAVING count(*) > 1) x`);
  const [live] = await cluster.sql(`SELECT count(*) FROM appointments WHERE status <> 'cancelled'
    AND doctor_id IN (${doctors.map((d) => d.id)})`);
  console.log(`bookings stored: ${live} (201 answers: ${booked['201'] ?? 0}), slots booked twice: ${dups}`);
  for (const c of clients) c.agent.destroy();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
