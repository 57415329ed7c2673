import type { NumericTable } from './table.js';

/** A column the detector does not model, and why; every one is printed and kept in the manifest. */
export interface LeftOut {
  readonly column: string;
  readonly reason: string;
}

/** Name words of label, event and state columns (SKAB's anomaly/changepoint, a utility's EVENT, ...). */
const LABEL_WORDS = new Set(['anomaly', 'anomalies', 'changepoint', 'event', 'events', 'label', 'labels', 'alarm', 'alarms', 'flag', 'flags', 'class', 'target', 'fault', 'faults', 'mode', 'outlier', 'attack']);

/** Words of a column name: split at non-letters and at camelCase humps, lower case. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
}

export function labelLikeName(name: string): boolean {
  return nameWords(name).some((w) => LABEL_WORDS.has(w) || /^is(anomaly|event|fault|alarm)$/.test(w));
}

/** Why a column cannot or should not be a model input, or undefined when it can be one. */
export function unusableReason(table: NumericTable, name: string): string | undefined {
  const facts = table.columns.get(name);
  if (!facts) return undefined;
  if (facts.firstBad) return `not numeric, line ${facts.firstBad.line}: "${facts.firstBad.value}"`;
  if (facts.missing === facts.values.length) return 'no values';
  if (labelLikeName(name)) return 'label-like';
  if (facts.integerCodes) return 'label-like: only a few integer codes';
  return undefined;
}

/** The automatic choice: every column but the time column, labels, codes, text and empty columns. */
export function automaticColumns(table: NumericTable): { columns: string[]; leftOut: LeftOut[] } {
  const columns: string[] = [];
  const leftOut: LeftOut[] = [];
  for (const name of table.header) {
    if (name === table.timeColumn || !table.columns.has(name) || columns.includes(name)) continue;
    const reason = unusableReason(table, name);
    if (reason) leftOut.push({ column: name, reason });
    else columns.push(name);
  }
  return { columns, leftOut };
}

/** Named columns that the automatic choice would not have taken (labels, codes): modelled, but worth a warning. */
export function explicitWarnings(table: NumericTable, names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const facts = table.columns.get(name);
    if (!facts || facts.firstBad) return [];
    if (labelLikeName(name)) return [`column "${name}" looks like a label (its name); modelled because --columns names it`];
    if (facts.integerCodes) return [`column "${name}" holds only a few integer codes (a label or state?); modelled because --columns names it`];
    return [];
  });
}
