import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Reference rows stored beside a bundle's manifest (`reference.json`): raw inputs and the outputs the
 * training framework computed for them. The activation gate replays them through onnxruntime-node.
 */
export const REFERENCE_FILE = 'reference.json';

export const referenceSchema = z.object({
  inputs: z.array(z.array(z.number())).min(1),
  outputs: z.record(z.string(), z.array(z.number())),
  /** Outputs in engineering units are compared after dividing by their column scale. */
  columnScales: z.record(z.string(), z.array(z.number().positive())).default({}),
  tolerance: z.number().positive(),
  producedBy: z.string(),
  /** Operating band of each watched signal's window mean in the training data (key `stage.signal`), widened. */
  bands: z.record(z.string(), z.object({ min: z.number(), max: z.number() })).optional(),
  /**
   * Bundles before the one detector family: per-input limits on the squared scaled reconstruction error.
   * Accepted in the file, no longer read: a bundle is scored by its manifest's postprocess and threshold alone.
   */
  inputThresholds: z.array(z.number().positive()).optional(),
});
export type Reference = z.infer<typeof referenceSchema>;

export async function readReference(dir: string): Promise<Reference | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, REFERENCE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = referenceSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

export async function writeReference(dir: string, reference: Reference): Promise<void> {
  await writeFile(join(dir, REFERENCE_FILE), `${JSON.stringify(reference)}\n`);
}

/** Largest difference between stored and actual outputs: scaled by the column scale, else relative above 1. */
export function referenceDiff(reference: Reference, actual: Readonly<Record<string, Float32Array>>): number {
  let worst = 0;
  for (const [name, expected] of Object.entries(reference.outputs)) {
    const got = actual[name];
    if (!got || got.length !== expected.length) return Number.POSITIVE_INFINITY;
    const scales = reference.columnScales[name];
    for (let i = 0; i < got.length; i += 1) {
      const divisor = scales ? (scales[i % scales.length] ?? 1) : Math.max(1, Math.abs(expected[i] ?? 0));
      const diff = Math.abs((got[i] ?? Number.NaN) - (expected[i] ?? Number.NaN)) / divisor;
      if (!(diff <= worst)) worst = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
    }
  }
  return worst;
}
