import * as api from './api.js';
import { mountAlarms } from './alarms.js';
import { mountEdge } from './edge.js';
import { mountLoops } from './loops.js';
import { mountOverview } from './overview.js';
import { mountTrends } from './trends.js';

const VIEWS = { overview: mountOverview, loops: mountLoops, alarms: mountAlarms, trends: mountTrends, edge: mountEdge };
const $ = (id) => document.getElementById(id);

/** The live picture: the snapshot, then every batch of changes, by kind and key. */
const state = { meta: undefined, loops: {}, byKind: new Map() };
const ctx = { state, role: 'viewer', user: '', act, notify, kind: (k) => state.byKind.get(k) ?? new Map() };
let view;
let viewName = '';
let source;

function applyUpdate(u) {
  if (u.kind === 'loops') {
    state.loops = u.data;
    return;
  }
  let m = state.byKind.get(u.kind);
  if (!m) state.byKind.set(u.kind, (m = new Map()));
  m.set(u.key, u.data);
}

function notify(text, isError = false) {
  const n = $('notice');
  n.textContent = text;
  n.className = isError ? 'notice error' : 'notice';
  n.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => (n.hidden = true), 6000);
}

async function act(path, body, done) {
  try {
    await api.post(path, body);
    notify(done);
    return true;
  } catch (error) {
    notify(`Refused: ${error.message}`, true);
    return false;
  }
}

function refreshChrome() {
  const alarms = [...ctx.kind('alarm').values()];
  const unacked = alarms.filter((a) => a.state === 'active_unack' || a.state === 'cleared_unack').length;
  $('alarm-count').textContent = unacked > 0 ? String(unacked) : '';
  const flood = alarms.find((a) => a.id === 'flood' && (a.state === 'active_unack' || a.state === 'active_ack'));
  $('flood').hidden = !flood;
  if (flood) $('flood').textContent = `Alarm flood: ${flood.message}`;
}

function show(name) {
  const next = VIEWS[name] ? name : 'overview';
  for (const a of document.querySelectorAll('#nav a')) a.setAttribute('aria-current', a.getAttribute('href') === `#${next}` ? 'page' : 'false');
  if (next === viewName && view) return;
  viewName = next;
  const root = $('view');
  root.replaceChildren();
  view = state.meta ? VIEWS[next](root, ctx) : undefined;
}

function update() {
  refreshChrome();
  if (!view && state.meta) show(viewName || location.hash.slice(1));
  view?.update();
}

function start(s) {
  ctx.role = s.role;
  ctx.user = s.user;
  $('login').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = `${s.user} (${s.role === 'hmi' ? 'operator' : 'viewer: look only'})`;
  source = api.live(
    (snapshot) => {
      state.meta = snapshot.meta;
      state.loops = snapshot.loops;
      state.byKind.clear();
      snapshot.updates.forEach(applyUpdate);
      $('site').textContent = `site ${snapshot.meta.site}`;
      view = undefined;
      viewName = '';
      show(location.hash.slice(1));
      update();
    },
    (batch) => {
      batch.forEach(applyUpdate);
      update();
    },
    (up) => ($('live').textContent = up ? 'live' : 'reconnecting…'),
  );
  setInterval(() => view?.tick?.(), 1000);
}

window.addEventListener('hashchange', () => {
  show(location.hash.slice(1));
  view?.update();
});

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    start(await api.login(String(form.get('username')), String(form.get('password'))));
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

$('logout').addEventListener('click', async () => {
  await api.post('logout').catch(() => undefined);
  source?.close();
  location.reload();
});

const existing = await api.session();
if (existing) start(existing);
else $('login').hidden = false;
