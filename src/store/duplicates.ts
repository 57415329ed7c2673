import type Database from 'better-sqlite3';
import type { DeadLetter, Quality, Reading } from '../contract/reading.js';
import { readingTopic } from '../contract/topics.js';

/** What a key (stage, signal, ts) already held when a reading repeated it. */
export interface StoredReading {
  readonly seq: number;
  readonly value: number;
  readonly quality: Quality;
}

/**
 * A reading whose key was taken, by a stored row or by an earlier reading of the same commit. The stored
 * row is kept. Exact (same value and quality): a resend, absorbed. Conflicting: a dead letter
 * `conflicting_duplicate` records the new value beside the kept one, in the same transaction.
 */
export interface Duplicate {
  readonly reading: Reading;
  readonly stored: StoredReading;
  readonly conflicting: boolean;
}

export type DuplicateKind = 'exact' | 'conflicting';

export interface DuplicateCheck {
  /**
   * After an `INSERT OR IGNORE` of `groups` that added fewer rows than it was given: the readings that
   * were ignored, per group. The insert added the rows with seq above `before` (writer.ts: they hold
   * consecutive seqs; Infinity when it added none).
   */
  find(groups: readonly (readonly Reading[])[], before: number): Duplicate[][];
  /** The trace of a conflicting duplicate. */
  deadLetter(duplicate: Duplicate, now: number): DeadLetter;
}

export function createDuplicateCheck(db: Database.Database, site: string): DuplicateCheck {
  const lookup = db.prepare('SELECT seq, value, quality FROM readings WHERE stage = ? AND signal = ? AND ts = ?');
  return {
    find(groups, before) {
      // Rows this insert added: the first reading of a key in the commit took it, any later one did not.
      const claimed = new Set<number>();
      return groups.map((readings) => {
        const found: Duplicate[] = [];
        for (const reading of readings) {
          const stored = lookup.get(reading.stage, reading.signal, reading.ts) as StoredReading | undefined;
          if (!stored) continue;
          if (stored.seq > before && !claimed.has(stored.seq)) {
            claimed.add(stored.seq);
            continue;
          }
          const conflicting = stored.value !== reading.value || stored.quality !== reading.quality;
          found.push({ reading, stored, conflicting });
        }
        return found;
      });
    },
    deadLetter({ reading: r, stored }, now) {
      return {
        topic: readingTopic(site, r.stage, r.signal),
        reason: 'conflicting_duplicate',
        payload: JSON.stringify({ value: r.value, ts: r.ts, quality: r.quality }),
        detail: `key (${r.stage}, ${r.signal}, ${r.ts}) already holds ${stored.value} (${stored.quality}, seq ${stored.seq}), kept; this reading says ${r.value} (${r.quality})`,
        ts: now,
      };
    },
  };
}
