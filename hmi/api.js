// Talks to the daemon: session, actions (CSRF token in a header), live events.
let csrf = '';

export async function session() {
  const res = await fetch('/hmi/api/session', { credentials: 'same-origin' });
  if (!res.ok) return undefined;
  const s = await res.json();
  csrf = s.csrf;
  return s;
}

export async function login(username, password) {
  const res = await fetch('/hmi/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `login failed (${res.status})`);
  csrf = body.csrf;
  return body;
}

export async function post(path, body = {}) {
  const res = await fetch(`/hmi/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body),
  });
  const reply = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(reply.error ?? `refused (${res.status})`);
  return reply;
}

export async function get(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `failed (${res.status})`);
  return body;
}

/** Server-sent events: the whole picture first, then batches of changes. */
export function live(onSnapshot, onBatch, onState) {
  const source = new EventSource('/hmi/api/events');
  source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener('batch', (e) => onBatch(JSON.parse(e.data)));
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  return source;
}
