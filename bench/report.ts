import type { AckRow } from './ack-latency.js';
import type { BreachRow } from './breach-to-rollback.js';
import type { ColdStartRow } from './cold-start.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { MemoryRow } from './memory.js';
import { describeDeploymentMemory, type DeploymentMemory } from './redis-memory.js';
import type { RollbackRow } from './rollback-latency.js';
import { formatSummary, ratio } from './stats.js';
import type { ThroughputRow } from './throughput.js';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  redis: string;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Results {
  machine: Machine;
  quick: boolean;
  startedAt: string;
  durationSeconds: number;
  ackLatency?: AckRow[];
  rollbackLatency?: RollbackRow[];
  breachToRollback?: BreachRow[];
  throughput?: ThroughputRow[];
  memory?: MemoryRow[];
  /** Redis memory one finished deployment costs (all its keys). */
  redisMemory?: DeploymentMemory;
  coldStart?: ColdStartRow[];
  targets: TargetCheck[];
  /** Measurements that could not be taken, with why. */
  errors: Record<string, string>;
  profiles?: ProfileSummary[];
}

const ACK_CEILING_MS = 100;
/** p99 at 100 concurrent against the bare Bolt app: `/deploy` opens a modal after the ack, `/deploy status` only reads. */
const ACK_MAX_RATIO: Record<string, number> = { '/deploy': 1.5, '/deploy status': 1.2 };
const DEFAULT_ACK_MAX_RATIO = 1.5;
const ROLLBACK_CEILING_MS = 1000;
/** Idle bot RSS (median) against the bare Bolt app's, and in absolute terms. */
const BOT_RSS_MAX_RATIO = 1.3;
const BOT_RSS_CEILING_MIB = 120;

/** Every target of the issue that the measured figures can be checked against. */
export function checkTargets(results: Omit<Results, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of (results.ackLatency ?? []).filter((r) => r.concurrency === 100)) {
    checks.push({
      name: `${row.command} ack p99 at 100 concurrent`,
      target: `< ${ACK_CEILING_MS} ms`,
      measured: `${row.switchyard.p99.toFixed(1)} ms`,
      met: row.switchyard.p99 < ACK_CEILING_MS,
    });
    const maxRatio = ACK_MAX_RATIO[row.command] ?? DEFAULT_ACK_MAX_RATIO;
    checks.push({
      name: `${row.command} ack p99 vs bare Bolt at 100 concurrent`,
      target: `≤ ${maxRatio}×`,
      measured: `${row.p99Ratio.toFixed(2)}× (${row.switchyard.p99.toFixed(1)} vs ${row.bare.p99.toFixed(1)} ms)`,
      met: row.p99Ratio <= maxRatio,
    });
  }
  for (const row of (results.memory ?? []).filter((r) => r.role === 'bot')) {
    const rss = row.rssMiB.median;
    const bare = row.baselineRssMiB.median;
    checks.push({
      name: 'idle bot RSS vs bare Bolt app',
      target: `≤ ${BOT_RSS_MAX_RATIO}×`,
      measured: `${ratio(rss, bare).toFixed(2)}× (${rss.toFixed(1)} vs ${bare.toFixed(1)} MiB)`,
      met: ratio(rss, bare) <= BOT_RSS_MAX_RATIO,
    });
    checks.push({
      name: 'idle bot RSS',
      target: `< ${BOT_RSS_CEILING_MIB} MiB`,
      measured: `${rss.toFixed(1)} MiB`,
      met: rss < BOT_RSS_CEILING_MIB,
    });
  }
  for (const row of results.rollbackLatency ?? []) {
    checks.push({
      name: `/rollback → weight change p99, ELB ${row.elbLatencyMs} ms, ${row.bakingMeanwhile} baking`,
      target: `< ${ROLLBACK_CEILING_MS} ms`,
      measured: `${row.latency.p99.toFixed(0)} ms`,
      met: row.latency.p99 < ROLLBACK_CEILING_MS,
    });
  }
  for (const row of results.breachToRollback ?? []) {
    checks.push({
      name: `breach → weights restored p99, interval ${row.intervalSeconds} s`,
      target: `≤ ${row.targetMs} ms`,
      measured: `${row.latency.p99.toFixed(0)} ms`,
      met: row.latency.p99 <= row.targetMs,
    });
  }
  return checks;
}

const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const ms = formatSummary;

/** The short markdown report: one table of latencies with their baselines, then scale and memory. */
export function markdownReport(results: Results): string {
  const m = results.machine;
  const out: string[] = [
    `# Switchyard benchmarks${results.quick ? ' (QUICK smoke run: too few samples to quote)' : ''}`,
    '',
    `${results.startedAt}, ${results.durationSeconds.toFixed(0)} s · ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB · Node ${m.node} · Redis ${m.redis} (private instance) · stand-ins on 127.0.0.1`,
    '',
    "Every figure is min / median / p99 over its samples; each row's baseline was measured in the same run.",
    '',
    line(['measurement', 'samples', 'Switchyard (ms)', 'baseline', 'baseline (ms)']),
    line(['---', '---:', '---:', '---', '---:']),
  ];
  for (const r of results.ackLatency ?? []) {
    out.push(
      line([
        `ack \`${r.command}\` ×${r.concurrency} concurrent`,
        r.switchyard.n,
        ms(r.switchyard),
        'bare Bolt app, ack only',
        ms(r.bare),
      ]),
    );
  }
  for (const r of results.rollbackLatency ?? []) {
    const reads = r.elbCallsBefore.median;
    out.push(
      line([
        `\`/rollback\` → ELB weight change, ELB answers in ${r.elbLatencyMs} ms, ${r.bakingMeanwhile} others baking (${reads} ELB call${reads === 1 ? '' : 's'} before the change)`,
        r.runs,
        ms(r.latency),
        'ALB adapter called directly (1 Describe, then Modify)',
        ms(r.baseline),
      ]),
    );
  }
  for (const r of results.breachToRollback ?? []) {
    out.push(
      line([
        `Datadog breach → ELB weights restored, interval ${r.intervalSeconds} s`,
        r.runs,
        ms(r.latency),
        'breach → first gate query seeing it',
        ms(r.detection),
      ]),
    );
  }
  for (const r of results.coldStart ?? []) {
    out.push(
      line([
        `${r.what} (connected to the deployment queue), \`node dist/main.js worker\``,
        r.runs,
        ms(r.after),
        'the same, the way it ran before: `node --import tsx src/main.ts worker`',
        ms(r.before),
      ]),
    );
  }
  if (results.throughput?.length) {
    out.push(
      '',
      '**Throughput** (zero-second bakes; every deployment requested and approved through the bot while the queue was paused, then released at once; the fleet’s smoke endpoints answer from a process of their own, as a deployed service does from its own machines; Redis commands from INFO commandstats, which counts the commands a script runs one by one):',
      '',
    );
    out.push(
      line([
        'workers × concurrency',
        'deployments',
        'deployments/s',
        'queue latency (ms)',
        'completion (ms)',
        'Redis cmds / deployment: worker (scripts) · bot',
        'Slack calls / deployment',
        'alone: completion (ms) · Redis cmds',
      ]),
    );
    out.push(line(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const r of results.throughput) {
      out.push(
        line([
          `${r.processes} × ${r.concurrency}`,
          `${r.deployments} × ${r.runs} runs${r.failed ? `, **${r.failed} failed**` : ''}`,
          formatSummary(r.perSecond),
          ms(r.queueLatencyMs),
          ms(r.completionMs),
          `${r.redisCommandsPerDeployment.toFixed(0)} (${r.redisScriptsPerDeployment.toFixed(0)}) · ${r.botRedisCommandsPerDeployment.toFixed(0)}`,
          r.slackCallsPerDeployment.toFixed(1),
          `${ms(r.alone.completionMs)} · ${r.alone.redisCommands.toFixed(0)}`,
        ]),
      );
    }
  }
  for (const r of (results.throughput ?? []).filter((t) => t.failed > 0)) {
    out.push(
      '',
      `${r.processes} × ${r.concurrency}: ${r.failed} deployments did not succeed: ${r.failureReasons.join('; ')}`,
    );
  }
  if (results.memory?.length) {
    out.push(
      '',
      '**Memory** (RSS, MiB):',
      '',
      line(['process', 'RSS (MiB)', 'baseline', 'baseline RSS (MiB)']),
      line(['---', '---:', '---', '---:']),
    );
    for (const r of results.memory)
      out.push(line([r.what, formatSummary(r.rssMiB), r.baselineWhat, formatSummary(r.baselineRssMiB)]));
  }
  if (results.redisMemory) {
    out.push(
      '',
      `**Redis memory per deployment** (MEMORY USAGE of every key one finished deployment owns): ${describeDeploymentMemory(results.redisMemory)}`,
    );
  }
  if (results.targets.length) {
    out.push('', '**Targets**:', '', line(['target', 'wanted', 'measured', 'met']), line(['---', '---', '---', '---']));
    for (const t of results.targets) out.push(line([t.name, t.target, t.measured, t.met ? 'yes' : '**no**']));
  }
  const errors = Object.entries(results.errors);
  if (errors.length) {
    out.push('', '**Not measured**:', '');
    for (const [what, why] of errors) out.push(`- ${what}: ${why}`);
  }
  for (const p of results.profiles ?? []) {
    const top = (spots: { name: string; percent: number }[]) =>
      spots
        .slice(0, 6)
        .map((h) => `${h.name} ${h.percent}%`)
        .join(', ');
    out.push(
      '',
      `CPU profile \`${p.file}\` (${p.busyMs} ms busy). Self time: ${top(p.packages)}. On the stack: ${top(p.inclusive)}.`,
    );
  }
  return `${out.join('\n')}\n`;
}
