import { describe, expect, test } from 'vitest';
import type { Strategy } from '../../src/domain/deployment.js';
import { crashRow, runCrashPoint } from '../support/resilience/crash.js';
import { killPoints } from '../support/resilience/plans.js';
import { problems, record } from '../support/resilience/record.js';

const STRATEGIES: Strategy[] = ['blue-green', 'canary', 'rolling'];

describe.for(STRATEGIES)(
  'a worker killed with SIGKILL at each step of a %s deployment, another taking over',
  (strategy) => {
    test.concurrent.for(killPoints(strategy))('$name', async (point, { task }) => {
      const run = await runCrashPoint(point);
      const row = crashRow(run, `SIGKILL worker · ${strategy}`);
      record(task, row);
      expect(problems(row), `killed worker said:\n${run.workerOutput}`).toEqual([]);
    });
  },
);
