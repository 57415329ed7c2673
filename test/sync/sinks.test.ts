import { silentLogger } from '../../src/lib/logger.js';
import { createMariadbSink } from '../../src/sync/mariadb-sink.js';
import { createMemorySink } from '../../src/sync/memory-sink.js';
import { describe } from 'vitest';
import { dropPrefix, mariadbReachable, requireMariadb, syncConfig, uniquePrefix } from './helpers.js';
import { describeSinkContract } from './sink-contract.js';

describeSinkContract('memory', async () => ({ sink: createMemorySink(), cleanup: async () => undefined }));

const up = requireMariadb || (await mariadbReachable());
describe.skipIf(!up)('mariadb', () => {
  describeSinkContract('mariadb', async () => {
    const prefix = uniquePrefix('contract');
    await Promise.resolve();
    return { sink: createMariadbSink(syncConfig(prefix).mariadb, silentLogger()), cleanup: () => dropPrefix(prefix) };
  });
});
