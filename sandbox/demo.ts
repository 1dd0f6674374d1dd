import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startSwitchyard } from '../src/app/bootstrap.js';
import { loadConfig } from '../src/config.js';
import type { Deployment } from '../src/domain/deployment.js';
import { createLogger } from '../src/logger.js';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET, startSandbox } from './sandbox.js';
import type { SlackCall } from './slack.js';
import { SlackUser } from './slack-user.js';

/**
 * `npm run demo`: the stand-ins, the bot and the worker in one process, and a whole
 * blue-green deployment played through signed Slack requests, every Slack message printed.
 */

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

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const sandbox = await startSandbox({ bakeSeconds: 3 });
  const prefix = `switchyard-demo-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ ...(await sandbox.env(redisUrl, prefix)), PORT: '0', LOG_LEVEL: 'warn' });
  const app = await startSwitchyard({
    config,
    catalog: sandbox.catalog,
    roles: { bot: true, worker: true },
    providers: sandbox.providers(),
    log: createLogger('warn'),
  });
  const appUrl = `http://127.0.0.1:${app.port}`;
  const person = (id: string) => new SlackUser(id, appUrl, sandbox.slack, SANDBOX_SIGNING_SECRET, CHANNELS.team);
  console.log(
    bold(`Switchyard demo — bot on ${appUrl}, Redis ${redisUrl}, stand-ins for Slack, ELBv2, Kubernetes, Datadog`),
  );

  let printed = 0;
  const printer = setInterval(() => {
    for (const call of sandbox.slack.calls.slice(printed)) {
      const label = LABELS[call.method];
      if (label && call.ok) {
        const update = call.method === 'chat.update';
        const text = readable(call);
        console.log(`\n${bold(`[slack] ${label(call)}`)}\n${update ? text.split('\n').at(-1) : text}`);
      }
    }
    printed = sandbox.slack.calls.length;
  }, 50);

  let outcome: Deployment | undefined;
  try {
    const requester = person(PEOPLE.requester);
    console.log(`\n${bold(`@${PEOPLE.requester} types`)} /deploy acme-api v1.5.0`);
    const { view } = await requester.requestDeploy('acme-api v1.5.0');
    console.log(`\n${bold(`@${PEOPLE.requester} confirms every checklist item and submits`)}`);
    await requester.submitChecklist(view);
    const announcement = await waitFor(() => sandbox.slack.messages(CHANNELS.deployments).find((m) => !m.thread_ts));
    console.log(`\n${bold(`@${PEOPLE.releaseManager} (release manager) presses Approve`)}`);
    await person(PEOPLE.releaseManager).press(announcement, 'approve_deployment');
    outcome = await waitFor(async () => {
      const [d] = await app.store.recent(1);
      return d && ['succeeded', 'failed', 'rolled-back'].includes(d.phase) ? d : undefined;
    }, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    clearInterval(printer);
    await app.close();
    await sandbox.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
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
