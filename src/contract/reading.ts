import type { StageId } from './plant.js';

export type Quality = 'good' | 'uncertain' | 'bad';

/** One validated measurement, as stored and as fed to the windows. */
export interface Reading {
  readonly stage: StageId;
  readonly signal: string;
  /** Event time, whole epoch ms (from the payload, else receive time; fractions rounded down at ingest). */
  readonly ts: number;
  readonly value: number;
  readonly quality: Quality;
  /** Wall time the daemon received it, epoch ms. */
  readonly receivedAt: number;
}

/** Why a message was rejected; every reason has its own counter. */
export const DEAD_LETTER_REASONS = [
  'unknown_topic',
  'unknown_signal',
  'unparseable',
  'wrong_type',
  'not_finite',
  'out_of_range',
  'bad_timestamp',
  /** Same key (stage, signal, ts) as a stored reading, another value or quality: the stored one is kept. */
  'conflicting_duplicate',
  'oversized',
  'topic_too_deep',
  'rate_limited',
  'not_authorized',
  'sparkplug_decode',
  'sparkplug_unknown_metric',
  /** Not under `wwtp/{site}/`, not Sparkplug, and no `tags.mqtt` pattern (or tag) maps it. */
  'unmapped',
  'invalid_command',
  'handler_error',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetter {
  readonly topic: string;
  readonly reason: DeadLetterReason;
  /** Payload as UTF-8 when it is text, else base64 prefixed with "base64:"; truncated to 4 KiB. */
  readonly payload: string;
  /** Optional detail (e.g. the zod path, the range that was violated). */
  readonly detail?: string;
  readonly ts: number;
}
