import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Deployment } from '../src/domain/deployment.js';
import { DeploymentStore } from '../src/store/deployment-store.js';
import { CHANNELS, INITIAL_VERSION, PEOPLE, SANDBOX_IMAGE, SANDBOX_SIGNING_SECRET, startSandbox } from './sandbox.js';
import type { AcceptedEvent, StandInIncident } from './pagerduty.js';
import type { SlackCall } from './slack.js';
import { SlackUser } from './slack-user.js';

/**
 * `npm run demo`: builds Switchyard, starts the stand-ins in this process, runs the bot and the
 * worker as `node dist/main.js bot` / `worker` (what the image runs) with the sandbox's
 * environment, and plays a whole blue-green deployment through signed Slack requests, every
 * Slack message printed.
 */

const root = fileURLToPath(new URL('../', import.meta.url));

const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;

interface DemoBlock {
  type: string;
  text?: { text?: string };
  label?: { text?: string };
  elements?: { text?: string | { text: string } }[];
}

/** Block Kit as a person would read it: text, context lines, and [buttons]. */
function readable(call: SlackCall): string {
  const blocks = (call.args.blocks ??
    (call.args.view as { blocks?: unknown[] } | undefined)?.blocks ??
    []) as DemoBlock[];
  const lines = blocks.flatMap((block) => {
    const elements = block.elements ?? [];
    if (block.type === 'section') return [block.text?.text ?? ''];
    if (block.type === 'context') return elements.map((e) => dim(typeof e.text === 'string' ? e.text : ''));
    if (block.type === 'actions')
      return [elements.map((e) => `[${typeof e.text === 'object' ? e.text.text : ''}]`).join(' ')];
    if (block.type === 'input') return [`☐ ${block.label?.text ?? ''}`];
    return [];
  });
  const body = lines.length ? lines.join('\n') : String(call.args.text ?? '');
  return body
    .replace(/<!date\^\d+\^[^|]+\|([^>]+)>/g, '$1')
    .replace(/<!subteam\^(\w+)>/g, '@$1')
    .replace(/<@(\w+)>/g, '@$1');
}

const LABELS: Record<string, (c: SlackCall) => string> = {
  'chat.postMessage': (c) =>
    c.args.thread_ts ? `  ↳ thread reply in ${c.args.channel}` : `new message in ${c.args.channel}`,
  'chat.update': (c) => `announcement updated in ${c.args.channel}`,
  'chat.postEphemeral': (c) => `only visible to ${c.args.user}`,
  'views.open': () => 'modal opened',
};

interface Started {
  name: string;
  child: ChildProcess;
  url: string;
  output: string[];
}

/** A port nothing listens on right now, chosen by the OS. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `node dist/main.js <role>` with the sandbox's environment; resolves once it answers /healthz on its port. */
async function startRole(role: 'bot' | 'worker', env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js', role], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const started: Started = { name: role, child, url: `http://127.0.0.1:${port}`, output };
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the ${role} exited (${child.exitCode}): ${output.join('')}`);
    const answered = await fetch(`${started.url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    return answered ? true : undefined;
  }, 30_000);
  return started;
}

const stopRole = (started: Started): Promise<void> =>
  new Promise((resolve) => {
    if (started.child.exitCode !== null || started.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => started.child.kill('SIGKILL'), 10_000);
    started.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    started.child.kill('SIGTERM');
  });

const DEMO_REPO = 'acme/acme-api';
/** The sandbox repository's history: what runs now (v1.4.1), then what v1.5.0 adds. */
const DEMO_COMMITS = [
  { message: 'Release v1.4.1', login: 'acme-release' },
  { message: 'Add the user dashboard (#412)', login: 'dana' },
  { message: 'Fix rounding in payment totals (#415)', login: 'eli' },
  { message: 'Bump the HTTP client', name: 'Renovate Bot' },
  { message: 'Release v1.5.0', login: 'acme-release' },
];

/**
 * The version that runs now (the sandbox's Deployments run v1.4.1), recorded as an earlier
 * completed deployment: the announcement lists the commits between the live version and the new one.
 */
async function recordEarlierDeployment(store: DeploymentStore): Promise<void> {
  const at = Date.now() - 86_400_000;
  const earlier: Deployment = {
    id: `acme-api-${INITIAL_VERSION}-earlier`,
    service: 'acme-api',
    environment: 'production',
    version: INITIAL_VERSION,
    image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
    strategy: 'blue-green',
    hotfix: false,
    requester: PEOPLE.requester,
    requestedAt: at,
    checklist: [],
    ticket: 'DEPLOY-100',
    changeSummary: 'Release v1.4.1',
    channel: CHANNELS.deployments,
    phase: 'succeeded',
    steps: [],
    stepIndex: 0,
    stepRecords: [],
    finishedAt: at,
    fence: 0,
  };
  const created = await store.create(earlier, { at, actor: PEOPLE.requester, type: 'requested' });
  if (!created.created) throw new Error('the demo could not record the earlier deployment');
  await store.save(created.deployment, { release: true, now: at });
}

/** What `runDemo` plays. */
export interface DemoOptions {
  /**
   * The on-call scenario: Datadog stops answering, the deployment pauses past the gate's
   * inconclusive limit and pages on-call through PagerDuty; Datadog comes back, the release
   * manager presses Resume, the page is resolved and the deployment goes on.
   */
  page?: boolean;
  /** Bake of each stage in seconds (3 in `npm run demo`). */
  bakeSeconds?: number;
  redisUrl?: string;
  /** Where the demo's lines go (the console by default). */
  print?: (line: string) => void;
}

export interface DemoResult {
  deployment: Deployment;
  weights: { blue: number; green: number };
  /** The events the PagerDuty stand-in accepted, in order, as it recorded them. */
  pages: AcceptedEvent[];
}

/** The gate the on-call scenario reads: Datadog's p99 latency, read every half second. */
const P99_GATE = {
  intervalSeconds: 0.5,
  failureLimit: 0,
  inconclusiveLimit: 3,
  metrics: [{ name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 }],
};

/** A PagerDuty event as the stand-in recorded it, in a line or two. */
function describePage(event: AcceptedEvent, earlier: AcceptedEvent[], incident: StandInIncident | undefined): string {
  const incidentLine = incident ? `\n${dim(`incident #${incident.number} is ${incident.status}`)}` : '';
  if (event.event_action !== 'trigger') {
    const sameKey = earlier.some((e) => e.event_action === 'trigger' && e.dedup_key === event.dedup_key);
    return `dedup_key ${event.dedup_key}${sameKey ? ' (the same key as the trigger)' : ''}${incidentLine}`;
  }
  return `dedup_key ${event.dedup_key}, severity ${event.payload?.severity}\nsummary: ${event.payload?.summary}${incidentLine}`;
}

/**
 * Starts the stand-ins, runs the built bot and worker (`dist/main.js`, so `npm run build` first)
 * against them, plays one deployment through signed Slack requests and prints every Slack
 * message and every PagerDuty event as it happens; cleans up its Redis keys and stand-ins.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const sandbox = await startSandbox({
    bakeSeconds: options.bakeSeconds ?? 3,
    service: { github: { repo: DEMO_REPO }, ...(options.page ? { gates: P99_GATE } : {}) },
    pagerduty: true,
  });
  sandbox.github.setHistory(DEMO_REPO, DEMO_COMMITS, { [INITIAL_VERSION]: 0, 'v1.5.0': DEMO_COMMITS.length - 1 });
  const prefix = `switchyard-demo-${randomUUID().slice(0, 8)}`;
  const env = await sandbox.env(redisUrl, prefix);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const store = new DeploymentStore(redis, prefix);
  const roles: Started[] = [];
  let printer: NodeJS.Timeout | undefined;
  let outcome: Deployment | undefined;
  try {
    await recordEarlierDeployment(store);
    roles.push(...(await Promise.all([startRole('bot', env), startRole('worker', env)])));
    const [bot, worker] = roles as [Started, Started];
    const appUrl = bot.url;
    const person = (id: string) => new SlackUser(id, appUrl, sandbox.slack, SANDBOX_SIGNING_SECRET, CHANNELS.team);
    print(
      bold(
        `Switchyard demo — node dist/main.js bot on ${appUrl} (pid ${bot.child.pid}) and worker (pid ${worker.child.pid}), Redis ${redisUrl}, stand-ins for Slack, ELBv2, Kubernetes, Datadog, GitHub, PagerDuty`,
      ),
    );

    let printed = 0;
    let pagesPrinted = 0;
    let commitsShown = false;
    printer = setInterval(() => {
      for (const call of sandbox.slack.calls.slice(printed)) {
        const label = LABELS[call.method];
        if (label && call.ok) {
          const update = call.method === 'chat.update';
          const text = readable(call);
          // An edit shows its status line, and the commit list the first time it is there.
          const commits = update && !commitsShown ? /\*Commits\*[^]*?(?=\n\*Rollback Plan)/.exec(text)?.[0] : undefined;
          if (commits) commitsShown = true;
          const shown = update ? [commits, text.split('\n').at(-1)].filter(Boolean).join('\n') : text;
          print(`\n${bold(`[slack] ${label(call)}`)}\n${shown}`);
        }
      }
      printed = sandbox.slack.calls.length;
      const events = sandbox.pagerduty.events;
      for (const [index, event] of events.entries()) {
        if (index < pagesPrinted) continue;
        const incident = sandbox.pagerduty.incidents.find((i) => i.incidentKey === event.dedup_key);
        print(
          `\n${bold(`[pagerduty] Events API received a ${event.event_action} event`)}\n${describePage(event, events.slice(0, index), incident)}`,
        );
      }
      pagesPrinted = events.length;
    }, 50);

    if (options.page) {
      print(`\n${bold('Datadog stops answering:')} every metric query gets HTTP 500 from now on`);
      sandbox.datadog.faults.inject({ status: 500, times: Infinity, match: '/api/v1/query' });
    }
    const requester = person(PEOPLE.requester);
    print(`\n${bold(`@${PEOPLE.requester} types`)} /deploy acme-api v1.5.0`);
    const { view } = await requester.requestDeploy('acme-api v1.5.0');
    print(`\n${bold(`@${PEOPLE.requester} confirms every checklist item and submits`)}`);
    await requester.submitChecklist(view);
    const announcement = await waitFor(() => sandbox.slack.messages(CHANNELS.deployments).find((m) => !m.thread_ts));
    print(`\n${bold(`@${PEOPLE.releaseManager} (release manager) presses Approve`)}`);
    await person(PEOPLE.releaseManager).press(announcement, 'approve_deployment');

    if (options.page) {
      // Three unreadable gate checks in a row pause the deployment, which pages on-call.
      const paused = await waitFor(async () => {
        const [d] = await store.recent(1);
        return d?.phase === 'paused' ? d : undefined;
      }, 30_000);
      await waitFor(() => sandbox.pagerduty.events.find((e) => e.event_action === 'trigger'), 15_000);
      const resumable = await waitFor(() =>
        sandbox.slack
          .thread(CHANNELS.deployments, paused.announcementTs as string)
          .find((m) => JSON.stringify(m.blocks ?? []).includes('"resume_deployment"')),
      );
      // Let the printer show the page before the story goes on.
      await new Promise((resolve) => setTimeout(resolve, 200));
      print(`\n${bold('Datadog answers again')}`);
      sandbox.datadog.faults.clear();
      print(`\n${bold(`@${PEOPLE.releaseManager} (release manager) presses Resume`)}`);
      await person(PEOPLE.releaseManager).press(resumable, 'resume_deployment');
      await waitFor(() => sandbox.pagerduty.events.find((e) => e.event_action === 'resolve'), 15_000);
    }

    outcome = await waitFor(async () => {
      const [d] = await store.recent(1);
      return d && ['succeeded', 'failed', 'rolled-back'].includes(d.phase) ? d : undefined;
    }, 60_000);
    // The worker's last thread replies go out through its Slack outbox just after the record is saved.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } catch (error) {
    for (const started of roles) {
      const output = started.output.join('').trim();
      if (output) print(`\n${bold(`${started.name} output:`)}\n${output.slice(-4000)}`);
    }
    throw error;
  } finally {
    clearInterval(printer);
    await Promise.all(roles.map(stopRole));
    await sandbox.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  const weights = sandbox.weights();
  const pages = [...sandbox.pagerduty.events];
  print(
    `\n${bold('Result:')} ${outcome.service} ${outcome.version} ${outcome.phase}; ALB weights blue ${weights.blue}% / green ${weights.green}%`,
  );
  const trigger = pages.find((e) => e.event_action === 'trigger');
  const resolved = trigger && pages.some((e) => e.event_action === 'resolve' && e.dedup_key === trigger.dedup_key);
  if (trigger) {
    print(
      `${bold('PagerDuty:')} on-call was paged (${trigger.dedup_key}, ${trigger.payload?.severity}) and the page was ${resolved ? 'resolved under the same dedup key' : 'left open'}`,
    );
  }
  return { deployment: outcome, weights, pages };
}

async function main(): Promise<void> {
  const page = process.argv.slice(2).includes('--page');
  console.log(dim('building dist/ (npm run build)…'));
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);
  const { deployment } = await runDemo({ page });
  if (!page)
    console.log(dim('\nnpm run demo -- --page plays a deployment that pauses and pages on-call through PagerDuty'));
  process.exit(deployment.phase === 'succeeded' ? 0 : 1);
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`demo timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// `npm run demo` runs this file; a test imports `runDemo` from it.
if (process.argv[1] && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
