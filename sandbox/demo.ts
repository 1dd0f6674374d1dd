import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Deployment } from '../src/domain/deployment.js';
import { DeploymentStore } from '../src/store/deployment-store.js';
import { CHANNELS, INITIAL_VERSION, PEOPLE, SANDBOX_IMAGE, SANDBOX_SIGNING_SECRET, startSandbox } from './sandbox.js';
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

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  console.log(dim('building dist/ (npm run build)…'));
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);

  const sandbox = await startSandbox({ bakeSeconds: 3, service: { github: { repo: DEMO_REPO } } });
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
    console.log(
      bold(
        `Switchyard demo — node dist/main.js bot on ${appUrl} (pid ${bot.child.pid}) and worker (pid ${worker.child.pid}), Redis ${redisUrl}, stand-ins for Slack, ELBv2, Kubernetes, Datadog, GitHub`,
      ),
    );

    let printed = 0;
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
          console.log(`\n${bold(`[slack] ${label(call)}`)}\n${shown}`);
        }
      }
      printed = sandbox.slack.calls.length;
    }, 50);

    const requester = person(PEOPLE.requester);
    console.log(`\n${bold(`@${PEOPLE.requester} types`)} /deploy acme-api v1.5.0`);
    const { view } = await requester.requestDeploy('acme-api v1.5.0');
    console.log(`\n${bold(`@${PEOPLE.requester} confirms every checklist item and submits`)}`);
    await requester.submitChecklist(view);
    const announcement = await waitFor(() => sandbox.slack.messages(CHANNELS.deployments).find((m) => !m.thread_ts));
    console.log(`\n${bold(`@${PEOPLE.releaseManager} (release manager) presses Approve`)}`);
    await person(PEOPLE.releaseManager).press(announcement, 'approve_deployment');
    outcome = await waitFor(async () => {
      const [d] = await store.recent(1);
      return d && ['succeeded', 'failed', 'rolled-back'].includes(d.phase) ? d : undefined;
    }, 60_000);
    // The worker's last thread replies go out through its Slack outbox just after the record is saved.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } catch (error) {
    for (const started of roles) {
      const output = started.output.join('').trim();
      if (output) console.error(`\n${bold(`${started.name} output:`)}\n${output.slice(-4000)}`);
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
  console.log(
    `\n${bold('Result:')} ${outcome?.service} ${outcome?.version} ${outcome?.phase}; ALB weights blue ${weights.blue}% / green ${weights.green}%`,
  );
  process.exit(outcome?.phase === 'succeeded' ? 0 : 1);
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

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
