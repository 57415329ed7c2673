import { z } from 'zod';

export const windowsSchema = z
  .object({
    /** Window length, seconds of event time. */
    sizeSec: z.number().positive().default(300),
    /** Slide, seconds; equal to sizeSec for tumbling windows. */
    slideSec: z.number().positive().default(300),
    /** Readings up to this late (event time behind the watermark) are merged; later ones are counted. */
    allowedLatenessSec: z.number().nonnegative().default(60),
    /** Gaps up to this many sampling periods are filled; longer ones mark the signal as gappy. */
    maxGapPeriods: z.number().positive().default(3),
    /** A signal with no reading for this many periods is stale. */
    staleAfterPeriods: z.number().positive().default(5),
    /**
     * When event time jumps ahead (a replay of another period, a PLC clock set forward), at most this
     * many windows without any reading are emitted per stage; the rest of the jump is skipped and counted.
     */
    maxIdleWindows: z.number().int().positive().default(288),
    /**
     * A reading more than this far ahead of the plant's event time does not move it alone (a bare
     * number received "now" while the plant replays the past, a PLC clock set wrong): it is held out
     * of the windows (stored all the same) until more than `jumpShare` of the signals live in the last window stand there too. Kept at most
     * allowedLatenessSec, a stray reading makes no other reading late.
     */
    maxLeadSec: z.number().nonnegative().default(60),
    /** Share of the live signals that must be exceeded by those standing ahead before the event time jumps; 0: any one reading moves it. */
    jumpShare: z.number().min(0).max(1).default(0.5),
    /** Readings held ahead at most; past it the oldest held one leaves the windows for good (counted). */
    maxAheadReadings: z.number().int().positive().default(10_000),
  })
  .strict()
  // A slide longer than the window would leave readings in no window at all.
  .refine((w) => w.slideSec <= w.sizeSec, { message: 'slideSec must not exceed sizeSec', path: ['slideSec'] });

export type WindowsConfig = z.infer<typeof windowsSchema>;
