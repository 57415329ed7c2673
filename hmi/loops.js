import { get } from './api.js';
import { fmt, h, time } from './dom.js';

/** The loops: setpoint, mode, reason, validUntil, feedback; auto/manual/advisory; recommendation with what-if. */
export function mountLoops(root, ctx) {
  const { meta } = ctx.state;
  const acts = ctx.role === 'hmi';
  const cards = new Map();
  const grid = h('div', { class: 'loops' });
  root.append(h('h1', {}, 'Control loops'), grid);

  for (const loop of meta.loops) {
    const id = loop.id;
    const f = {
      mode: h('span', { class: 'mode', 'data-testid': `mode-${id}` }, '–'),
      value: h('span', { class: 'big', 'data-testid': `setpoint-${id}` }, '–'),
      reason: h('p', { class: 'reason' }, ''),
      valid: h('span', {}, ''),
      feedback: h('span', {}, ''),
      rec: h('div', { class: 'recommendation', 'data-testid': `recommendation-${id}` }),
      whatIf: h('div', { class: 'whatif', 'data-testid': `whatif-${id}` }),
    };
    const manualValue = h('input', { type: 'number', step: 'any', min: loop.min, max: loop.max, 'aria-label': `Manual value ${id}`, placeholder: loop.unit, disabled: !acts });
    const candidate = h('input', { type: 'number', step: 'any', min: loop.min, max: loop.max, 'aria-label': `Candidate ${id}`, placeholder: 'value' });
    const button = (label, onclick, needsRole = true) =>
      h('button', { type: 'button', 'aria-label': `${label} ${id}`, disabled: needsRole && !acts, title: needsRole && !acts ? 'viewer: look only' : undefined, onclick }, label);
    const mode = (m, extra = {}) => ctx.act(`loops/${id}/mode`, { mode: m, ...extra }, `${id}: ${m}`);
    const manual = button('Manual', () => {
      const v = manualValue.value === '' ? undefined : Number(manualValue.value);
      void mode('manual', v === undefined ? {} : { value: v });
    });
    const auto = button('Auto', () => void mode('auto'));
    const advisory = button('Advisory', () => void mode('advisory'));
    const showWhatIf = async (value) => {
      try {
        const w = await get(`/api/v1/whatif?loop=${encodeURIComponent(id)}&value=${encodeURIComponent(value)}`);
        f.whatIf.replaceChildren(whatIfTable(w));
      } catch (error) {
        f.whatIf.replaceChildren(h('p', { class: 'error' }, `what-if: ${error.message}`));
      }
    };
    const whatIf = button('What-if', () => void showWhatIf(candidate.value === '' ? (ctx.state.loops[id]?.pending?.value ?? loop.fallback) : candidate.value), false);
    const comment = h('input', { type: 'text', maxlength: 1024, 'aria-label': `Decision comment ${id}`, placeholder: 'comment', disabled: !acts });
    const decide = (accept) => ctx.act(`loops/${id}/decision`, { accept, ...(comment.value ? { comment: comment.value } : {}) }, `${id}: recommendation ${accept ? 'accepted' : 'rejected'}`);
    const accept = button('Accept', () => void decide(true));
    const reject = button('Reject', () => void decide(false));
    const decision = h('div', { class: 'decision', hidden: true }, comment, accept, reject);
    const card = h(
      'section',
      { class: 'loop', 'aria-label': `Loop ${id}` },
      h('h2', {}, id, ' ', h('small', {}, `${loop.stage} · ${loop.min}–${loop.max} ${loop.unit}, step ${loop.maxStep}`)),
      h('p', {}, f.value, ' ', loop.unit, ' ', f.mode),
      f.reason,
      h('p', { class: 'small' }, 'valid until ', f.valid, ' · feedback ', f.feedback),
      h('div', { class: 'controls' }, manualValue, manual, auto, advisory),
      f.rec,
      decision,
      h('div', { class: 'controls' }, candidate, whatIf),
      f.whatIf,
    );
    cards.set(id, { loop, f, decision, showWhatIf });
    grid.append(card);
  }

  function update() {
    const setpoints = ctx.kind('setpoint');
    const recs = ctx.kind('recommendation');
    const readings = ctx.kind('reading');
    for (const [id, c] of cards) {
      const { f, loop } = c;
      const sp = setpoints.get(`${loop.stage}.${id}`);
      const snap = ctx.state.loops[id] ?? {};
      f.mode.textContent = snap.mode ?? sp?.mode ?? '–';
      f.mode.className = `mode ${snap.mode ?? ''}`;
      if (sp) {
        f.value.textContent = fmt(sp.value);
        f.reason.textContent = `${sp.mode}: ${sp.reason}`;
        f.valid.textContent = time(sp.validUntil);
      }
      const fb = loop.feedback ? readings.get(loop.feedback) : undefined;
      f.feedback.textContent = fb ? `${fmt(fb.value)} ${loop.unit}` : '–';
      const rec = recs.get(`${loop.stage}.${id}`);
      const pending = snap.mode === 'advisory' && snap.pending;
      c.decision.hidden = !pending;
      if (rec && (pending || rec.status !== 'pending')) {
        f.rec.replaceChildren(
          h('p', {}, h('strong', {}, `Recommendation ${fmt(rec.value)} ${rec.unit}`), ` (${rec.status}${rec.decidedBy ? ` by ${rec.decidedBy}` : ''})`),
          h('p', { class: 'reason' }, rec.reason),
          rec.whatIf ? whatIfTable(rec.whatIf) : '',
        );
      } else f.rec.replaceChildren();
    }
  }
  return { update };
}

function whatIfTable(w) {
  return h(
    'table',
    { class: 'whatif-table' },
    h('caption', {}, `What-if ${w.loop} at ${fmt(w.value)} ${w.unit}: ${w.outlet.stage} ${w.outlet.signal} (${w.outlet.unit}), now ${fmt(w.now)}`),
    h('thead', {}, h('tr', {}, h('th', {}, 'in'), h('th', {}, 'as is'), h('th', {}, 'with it'))),
    h('tbody', {}, w.horizons.map((x) => h('tr', {}, h('th', { scope: 'row' }, `${x.horizonMin / 60} h`), h('td', { class: 'num' }, fmt(x.baseline)), h('td', { class: 'num' }, fmt(x.predicted))))),
  );
}
