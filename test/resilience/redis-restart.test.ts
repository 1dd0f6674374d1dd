import { describe, expect, test } from 'vitest';
import { problems, record } from '../support/resilience/record.js';
import { findRedisServer } from '../support/resilience/redis-server.js';
import { RESTART_POINTS, runRedisRestart } from '../support/resilience/restart.js';

const binary = findRedisServer();
if (!binary)
  process.stderr.write(
    'redis-server is not installed here: the Redis restart scenarios are skipped (.ci/run installs it)\n',
  );

describe.skipIf(!binary)(
  'Redis killed with SIGKILL mid-deployment, started again on the same port and append-only file',
  () => {
    test.concurrent.for(RESTART_POINTS)('$name', async (point, { task }) => {
      const { row, workerOutput } = await runRedisRestart(binary as string, point);
      record(task, row);
      expect(problems(row), `worker said:\n${workerOutput}`).toEqual([]);
    });
  },
);
