import { describe, expect, test } from 'vitest';
import { crashRow, runCrashPoint } from '../support/resilience/crash.js';
import { killPoints } from '../support/resilience/plans.js';
import { problems, record } from '../support/resilience/record.js';

describe('a worker killed with SIGKILL at each step of a blue-green deployment, another taking over', () => {
  test.concurrent.for(killPoints('blue-green'))('$name', async (point, { task }) => {
    const run = await runCrashPoint(point);
    const row = crashRow(run, 'SIGKILL worker · blue-green');
    record(task, row);
    expect(problems(row), `killed worker said:\n${run.workerOutput}`).toEqual([]);
  });
});
