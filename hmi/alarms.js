import { get } from './api.js';
import { h, time } from './dom.js';

const PRIORITY = { critical: 0, high: 1, medium: 2, low: 3 };
const STANDING = new Set(['active_unack', 'active_ack', 'cleared_unack', 'shelved']);

/** ISA-18.2 alarm list by priority and time: acknowledge (comment, verdict), shelve; the alarm history. */
export function mountAlarms(root, ctx) {
  const acts = ctx.role === 'hmi';
  const list = h('tbody');
  const rows = new Map();
  const history = h('tbody');
  root.append(
    h('h1', {}, 'Alarms'),
    h('table', { class: 'alarms' }, h('thead', {}, h('tr', {}, ...['priority', 'alarm', 'state', 'stage', 'message', 'raised', 'action'].map((t) => h('th', {}, t)))), list),
    h('h2', {}, 'Alarm history (7 days)'),
    h('button', { type: 'button', onclick: () => void loadHistory() }, 'Refresh history'),
    h('table', { class: 'history' }, h('thead', {}, h('tr', {}, ...['time', 'alarm', 'state', 'by', 'verdict', 'comment'].map((t) => h('th', {}, t)))), history),
  );

  function row(a) {
    const id = a.id;
    const state = h('td', { 'data-testid': `state-${id}` });
    const message = h('td');
    const comment = h('input', { type: 'text', maxlength: 1024, 'aria-label': `Comment ${id}`, placeholder: 'comment', disabled: !acts });
    const verdict = h(
      'select',
      { 'aria-label': `Verdict ${id}`, disabled: !acts },
      h('option', { value: '' }, 'verdict…'),
      h('option', { value: 'confirmed' }, 'confirmed'),
      h('option', { value: 'false_alarm' }, 'false alarm'),
    );
    const minutes = h('input', { type: 'number', min: 1, max: 10080, value: 60, 'aria-label': `Shelve minutes ${id}`, disabled: !acts });
    const note = () => (comment.value ? { comment: comment.value } : {});
    const ack = h(
      'button',
      {
        type: 'button',
        'aria-label': `Acknowledge ${id}`,
        disabled: !acts,
        onclick: () => void ctx.act(`alarms/${encodeURIComponent(id)}/ack`, { ...note(), ...(verdict.value ? { verdict: verdict.value } : {}) }, `${id} acknowledged`),
      },
      'Acknowledge',
    );
    const shelve = h(
      'button',
      { type: 'button', 'aria-label': `Shelve ${id}`, disabled: !acts, onclick: () => void ctx.act(`alarms/${encodeURIComponent(id)}/shelve`, { minutes: Number(minutes.value), ...note() }, `${id} shelved`) },
      'Shelve',
    );
    const el = h('tr', { 'data-key': id }, h('td', { class: `sev ${a.severity}` }, a.severity), h('th', { scope: 'row' }, id), state, h('td', {}, a.stage), message, h('td', {}, time(a.raisedAt)), h('td', { class: 'actions' }, comment, verdict, ack, minutes, shelve));
    return { el, state, message, ack };
  }

  function update() {
    const alarms = [...ctx.kind('alarm').values()].filter((a) => STANDING.has(a.state));
    alarms.sort((a, b) => PRIORITY[a.severity] - PRIORITY[b.severity] || b.raisedAt - a.raisedAt);
    const keep = new Set(alarms.map((a) => a.id));
    for (const [id, r] of rows) {
      if (keep.has(id)) continue;
      r.el.remove();
      rows.delete(id);
    }
    for (const a of alarms) {
      let r = rows.get(a.id);
      if (!r) rows.set(a.id, (r = row(a)));
      r.state.textContent = a.state + (a.ackedBy ? ` (${a.ackedBy})` : '');
      r.message.textContent = a.message;
      r.el.className = a.state;
      list.append(r.el);
    }
    if (alarms.length === 0) list.replaceChildren(h('tr', {}, h('td', { colspan: 7 }, 'No standing alarms.')));
    else list.querySelector('td[colspan]')?.parentElement?.remove();
  }

  async function loadHistory() {
    try {
      const from = Date.now() - 7 * 86_400_000;
      const page = await get(`/api/v1/history/alarm_events?from=${from}&limit=10000`);
      const last = page.rows.slice(-300).reverse();
      history.replaceChildren(...last.map((e) => h('tr', {}, h('td', {}, time(e.ts)), h('td', {}, e.alarmId), h('td', {}, e.state), h('td', {}, e.by ?? ''), h('td', {}, e.verdict ?? ''), h('td', {}, e.comment ?? ''))));
    } catch (error) {
      history.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'error' }, error.message)));
    }
  }
  void loadHistory();
  return { update };
}
