import { describe, expect, test } from 'vitest';
import { crashRow, runCrashPoint } from '../../support/resilience/crash.js';
import { killPoints } from '../../support/resilience/plans.js';
import { problems, record } from '../../support/resilience/record.js';

// A few points of `npm run test:resilience` (test/resilience/), kept in `npm test`: a shift and a rollback.
const POINTS = killPoints('blue-green').filter((p) => /shift traffic to 50%|rollback asked/.test(p.name));

describe('a worker killed with SIGKILL mid-step, another taking over', () => {
  test.concurrent.for(POINTS)('$name', async (point, { task }) => {
    const run = await runCrashPoint(point);
    const row = crashRow(run, 'SIGKILL worker · blue-green');
    record(task, row);
    expect(run.midCall).toBe(true);
    expect(problems(row), `killed worker said:\n${run.workerOutput}`).toEqual([]);
  });
});
