import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_TABLES, type HistoryTable, type TableRows } from '../../src/contract/rows.js';
import type { CentralSink } from '../../src/sync/central.js';
import { canonical } from './helpers.js';
import { sampleRows, withSite } from './sample-rows.js';

/** One contract for every central sink (in-memory and MariaDB). */
export function describeSinkContract(name: string, make: () => Promise<{ sink: CentralSink; cleanup(): Promise<void> }>): void {
  describe(`central sink contract: ${name}`, () => {
    let sink: CentralSink;
    let cleanup: () => Promise<void>;
    const site = `contract-${Math.random().toString(36).slice(2, 8)}`;
    beforeAll(async () => {
      ({ sink, cleanup } = await make());
      await sink.connect();
      await sink.connect();
    });
    afterAll(async () => {
      await sink.close();
      await cleanup();
    });

    const rowsOf = <T extends HistoryTable>(table: T, n: number): TableRows[T][] => Array.from({ length: n }, (_, i) => sampleRows(i)[table]);

    it('stores every table exactly as written', async () => {
      for (const table of HISTORY_TABLES) {
        const rows = withSite(site, rowsOf(table, 5));
        await sink.write(table, rows);
        expect(canonical(table, await sink.readBack(table, site))).toEqual(canonical(table, rows));
      }
    });

    it('a re-sent batch changes nothing, even with other values under the same key', async () => {
      const rows = withSite(site, rowsOf('setpoints', 5));
      await sink.write('setpoints', rows);
      await sink.write('setpoints', rows.map((r): typeof r => ({ ...r, value: -1 })));
      expect(canonical('setpoints', await sink.readBack('setpoints', site))).toEqual(canonical('setpoints', rows));
    });

    it('keeps sites apart', async () => {
      const other = `${site}-b`;
      await sink.write('readings', withSite(other, rowsOf('readings', 3)));
      expect(await sink.readBack('readings', other)).toHaveLength(3);
      expect(await sink.readBack('readings', site)).toHaveLength(5);
    });

    it('writes a large batch in one call', async () => {
      const big = Array.from({ length: 3_000 }, (_, i) => ({ ...(sampleRows(i).readings), signal: 'flow', ts: i, site: `${site}-big` }));
      await sink.write('readings', big);
      await sink.write('readings', big);
      expect(await sink.readBack('readings', `${site}-big`)).toHaveLength(3_000);
    });
  });
}
