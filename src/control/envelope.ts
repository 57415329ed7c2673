/**
 * The safety envelope (PRODUCT 5.3), the one place every setpoint passes through whatever the policy,
 * the operator or the fallback asked for:
 * - every value lies in [min, max] and is finite; a non-finite proposal becomes the fallback;
 * - auto values move at most maxStep from the previously published value (bumpless return from manual
 *   or fallback as well);
 * - fallback jumps straight to the configured fallback value: it is the known-safe setpoint, and
 *   creeping towards it over several windows would keep the plant on a value computed from bad inputs;
 * - manual values are the operator's: clamped to [min, max] but not rate limited.
 */

export interface Envelope {
  readonly min: number;
  readonly max: number;
  readonly maxStep: number;
  readonly fallback: number;
}

export type Proposal =
  | { readonly mode: 'auto'; readonly value: number; readonly reason: string }
  | { readonly mode: 'manual'; readonly value: number; readonly reason: string }
  | { readonly mode: 'fallback'; readonly reason: string };

export interface Enveloped {
  readonly value: number;
  readonly mode: 'auto' | 'manual' | 'fallback';
  readonly reason: string;
  /** True when the envelope replaced an auto proposal by the fallback (non-finite value). */
  readonly forcedFallback: boolean;
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** The fallback value itself, kept inside [min, max] even if misconfigured. */
export function safeFallback(env: Envelope): number {
  return Number.isFinite(env.fallback) ? clamp(env.fallback, env.min, env.max) : env.min;
}

export function applyEnvelope(env: Envelope, previous: number | undefined, proposal: Proposal): Enveloped {
  if (proposal.mode === 'fallback') {
    return { value: safeFallback(env), mode: 'fallback', reason: proposal.reason, forcedFallback: false };
  }
  if (!Number.isFinite(proposal.value)) {
    if (proposal.mode === 'manual') {
      const hold = previous !== undefined && Number.isFinite(previous) ? clamp(previous, env.min, env.max) : safeFallback(env);
      return { value: hold, mode: 'manual', reason: `${proposal.reason}; no finite manual value, holding ${hold}`, forcedFallback: false };
    }
    return { value: safeFallback(env), mode: 'fallback', reason: `non-finite proposal (${String(proposal.value)}): ${proposal.reason}`, forcedFallback: true };
  }
  const notes: string[] = [];
  let value = clamp(proposal.value, env.min, env.max);
  if (value !== proposal.value) notes.push(`clamped from ${round(proposal.value)}`);
  if (proposal.mode === 'auto' && previous !== undefined && Number.isFinite(previous)) {
    const lo = previous - env.maxStep;
    const hi = previous + env.maxStep;
    const stepped = clamp(value, lo, hi);
    if (stepped !== value) notes.push(`step limited from ${round(value)}`);
    // A previous value outside a since-narrowed envelope must not drag the setpoint out with it.
    value = clamp(stepped, env.min, env.max);
  }
  const reason = notes.length > 0 ? `${proposal.reason}; ${notes.join(', ')}` : proposal.reason;
  return { value, mode: proposal.mode, reason, forcedFallback: false };
}

function round(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : String(v);
}
