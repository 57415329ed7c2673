import { z } from 'zod';

const volume = z.number().nonnegative();

/**
 * Plant constants the process indicators need (HRT, SRT, F/M, loading rates). Defaults: the BSM1 plant
 * (anoxic 2 x 1000 m3, aerobic 3 x 1333 m3, secondary settler 1500 m2 x 4 m) with the stages BSM1 lacks
 * sized for its 18,446 m3/d design flow. A volume of 0 means the stage has no tank of its own; its
 * HRT is then not computed.
 */
export const plantGeometrySchema = z
  .object({
    /** Primary clarifier volume, m3 (about 1.2 h at the design flow). */
    primaryVolumeM3: volume.default(900),
    /** Anaerobic (bio-P) zone volume, m3. */
    anaerobicVolumeM3: volume.default(500),
    /** Anoxic zones, m3 each. */
    anoxicVolumesM3: z.array(volume).default([1000, 1000]),
    /** Aerated zones, m3 each. */
    aerobicVolumesM3: z.array(volume).default([1333, 1333, 1333]),
    /** Secondary clarifier surface, m2. */
    settlerAreaM2: z.number().positive().default(1500),
    /** Secondary clarifier depth, m. */
    settlerDepthM: z.number().positive().default(4),
    /** Installed membrane area, m2 (about 25 L/m2/h net flux at the design flow). */
    membraneAreaM2: z.number().nonnegative().default(30000),
    /** Separate membrane tank, m3; 0 when the membranes sit in the last aerated zone. */
    membraneTankVolumeM3: volume.default(0),
  })
  .strict();

export type PlantGeometry = z.infer<typeof plantGeometrySchema>;

/** The defaults, for code paths and tests that run without a loaded config. */
export const defaultPlantGeometry: PlantGeometry = plantGeometrySchema.parse({});
