import { describe, expect, test } from 'vitest';
import { problems, record } from '../../support/resilience/record.js';
import { findRedisServer } from '../../support/resilience/redis-server.js';
import { RESTART_POINTS, runRedisRestart } from '../../support/resilience/restart.js';

const binary = findRedisServer();
if (!binary)
  process.stderr.write(
    'redis-server is not installed here: the Redis restart scenario is skipped (.ci/run installs it)\n',
  );
const MID_BAKE = RESTART_POINTS.filter((p) => p.name.startsWith('mid-bake'));

// The mid-bake point of test/resilience/redis-restart.test.ts, kept in `npm test`.
describe.skipIf(!binary)('Redis killed with SIGKILL mid-bake and started again', () => {
  test.for(MID_BAKE)(
    '$name: the deployment finishes with the planned weights and the bot answers again',
    async (point, { task }) => {
      const { row, workerOutput } = await runRedisRestart(binary as string, point);
      record(task, row);
      expect(problems(row), `worker said:\n${workerOutput}`).toEqual([]);
      expect(row.outcome).toBe('succeeded');
    },
  );
});
