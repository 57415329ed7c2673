import { z } from 'zod';
import { isTimeZone } from '../../mapping/time.js';

/** An IANA time zone name this Node knows (`UTC`, `Europe/Amsterdam`, `America/Denver`). */
export const timeZoneSchema = z.string().refine(isTimeZone, { message: 'not an IANA time zone (e.g. UTC, Europe/Amsterdam, America/Denver)' });
