import { isTerminal } from '../../../src/domain/deployment.js';
import type { Step } from '../../../src/domain/steps.js';
import type { Harness } from '../harness.js';
import { killed, spawnWorker } from '../worker-process.js';
import { check } from './checks.js';
import { settleMessages, startScenario } from './crash.js';
import { waitFor } from './faults.js';
import { stageWeights } from './plans.js';
import type { ResilienceRow } from './record.js';
import { OwnRedis } from './redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RestartPoint {
  name: string;
  /** Redis dies 1.5 s after this step started, past the last second an fsync-every-second AOF may lose. */
  when: (step: Step) => boolean;
  /** Milliseconds per replica the simulated rollout moves; slow enough to still be polled when Redis dies. */
  rolloutStepMs?: number;
}

export const RESTART_POINTS: RestartPoint[] = [
  { name: 'mid-bake at 50%', when: (s) => s.kind === 'bake' && s.weight === 50 },
  { name: 'while the rollout is polled', when: (s) => s.kind === 'deployIdle', rolloutStepMs: 1500 },
];

/** What the bot's /healthz says while Redis is away: a status, or that it did not answer in time. */
async function healthz(h: Harness, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(`${h.appUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    return String(response.status);
  } catch {
    return `no answer within ${timeoutMs} ms`;
  }
}

/**
 * Bot (here) and worker (a process of its own) on a Redis of the test's own; Redis is killed with
 * SIGKILL 1.5 s into the point's step and started again on the same port and directory. The
 * deployment must finish as planned and the bot answer again.
 */
export async function runRedisRestart(
  binary: string,
  point: RestartPoint,
): Promise<{ row: ResilienceRow; workerOutput: string }> {
  const redis = await OwnRedis.start(binary);
  const h = await startScenario('blue-green', {
    redisUrl: redis.url,
    rolloutStepMs: point.rolloutStepMs,
    service: {
      stages: [
        { weight: 10, bakeSeconds: 1 },
        { weight: 50, bakeSeconds: 4 },
        { weight: 100, bakeSeconds: 0 },
      ],
    },
  });
  const worker = spawnWorker({ ...(await h.sandbox.env(redis.url, h.prefix)), PORT: '0' });
  try {
    await h.deployAndApprove('v1.5.0');
    const at = await waitFor(
      h,
      (d) => d.steps.some((s, i) => point.when(s) && d.stepRecords[i]?.startedAt !== undefined) || isTerminal(d.phase),
      60_000,
    );
    if (at?.phase !== 'running') throw new Error(`the deployment never got to the point: ${at?.phase ?? 'no record'}`);
    await sleep(1500);
    const killAt = Date.now();
    await redis.kill();
    const whileDown = await healthz(h, 1500);
    await redis.start();
    const downMs = Date.now() - killAt;
    const reloaded = await h.app.store.get(at.id);

    const healthAfter = await healthz(h, 5000);
    const status = await h.requester.command('/deploy', 'status');
    const final = (await waitFor(h, (d) => isTerminal(d.phase), 60_000)) ?? (await h.app.store.get(at.id));
    if (!final) throw new Error('the record is gone after the restart');
    await settleMessages(h, final);
    const findings = await check(h, final, {
      phase: 'succeeded',
      weights: stageWeights('blue-green'),
      jobs: { migrate: 1, e2e: 1 },
    });
    const reconnect = [
      ...(healthAfter === '200' ? [] : [`bot /healthz answers ${healthAfter} after the restart`]),
      ...(status.status === 200 ? [] : [`bot answered /deploy status with ${status.status} after the restart`]),
    ];
    const note =
      `Redis down ${(downMs / 1000).toFixed(1)} s; bot /healthz while down: ${whileDown}, after: ${healthAfter}; ` +
      `record at step ${reloaded?.stepIndex ?? 'none'} just after the restart (step ${at.stepIndex} when Redis died)`;
    const row: ResilienceRow = {
      fault: 'Redis SIGKILL + restart (AOF everysec)',
      point: point.name,
      outcome: final.phase,
      ...findings,
      lost: [...findings.lost, ...reconnect],
      note,
    };
    return { row, workerOutput: worker.output.join('').slice(-2000) };
  } finally {
    await killed(worker);
    await h.close();
    await redis.close();
  }
}
