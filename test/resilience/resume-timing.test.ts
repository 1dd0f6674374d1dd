import { describe, expect, test } from 'vitest';
import { crashRow, runCrashPoint } from '../support/resilience/crash.js';
import { killPoints } from '../support/resilience/plans.js';
import { problems, record } from '../support/resilience/record.js';

/**
 * How long a killed worker's deployment waits for another worker, with the lock and stall
 * settings before this suite (10 s / 5 s) and with a replacement process started only after the
 * kill; the crash suites measure the current defaults with a worker already running. Kills land
 * in steps whose job is running (not waiting in the delayed set), so the stall check is measured.
 */
const POINTS = killPoints('blue-green').filter((p) =>
  /deploy new version|shift traffic to 50%|preDeploy hook/.test(p.name),
);

describe('kill → resume', () => {
  test.concurrent.for(POINTS)('lock 10 s, stall check 5 s (the old defaults): $name', async (point, { task }) => {
    const run = await runCrashPoint(point, {
      workerEnv: { WORKER_LOCK_MS: '10000', WORKER_STALLED_INTERVAL_MS: '5000' },
    });
    const row = crashRow(run, 'SIGKILL worker · old defaults 10 s / 5 s');
    record(task, row);
    expect(problems(row), run.workerOutput).toEqual([]);
  });

  test.concurrent.for(POINTS)('a new worker process started after the kill: $name', async (point, { task }) => {
    const run = await runCrashPoint(point, { replacement: 'process' });
    const row = crashRow(run, 'SIGKILL worker · replaced by a new process');
    record(task, row);
    expect(problems(row), run.workerOutput).toEqual([]);
  });
});
