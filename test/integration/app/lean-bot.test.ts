import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET, startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { SlackUser } from '../../../sandbox/slack-user.js';
import { BUILT_ENTRY } from '../../support/built-entry.js';
import { deletePrefix, REDIS_URL, until } from '../../support/harness.js';

/**
 * A bot-only process (`node dist/main.js bot`) loads no AWS, Kubernetes or Datadog SDK (nor
 * Bull Board when the dashboard is off), even after answering slash commands and opening the
 * Home tab; a worker process loads all three.
 * What each process loaded is recorded by a module hook registered with `--import`.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RECORDER = fileURLToPath(new URL('../../support/loaded-modules/register.mjs', import.meta.url));
const SDKS = ['@aws-sdk/', '@kubernetes/client-node', '@datadog/'];

interface Recorded {
  child: ChildProcess;
  lines: string[];
  /** Every module URL or path the process loaded, once it has exited. */
  modules(): Promise<string[]>;
  stop(): Promise<void>;
}

describe('a bot-only process loads no infrastructure SDK', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let dir: string;
  const prefix = `sy-test-lean-${randomUUID().slice(0, 8)}`;
  const started: Recorded[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    env = await sandbox.env(REDIS_URL, prefix);
    dir = await mkdtemp(join(tmpdir(), 'switchyard-loaded-'));
  });
  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()));
    await sandbox.close();
    const redis = new Redis(REDIS_URL);
    await deletePrefix(redis, prefix);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (role: 'bot' | 'worker'): Recorded => {
    const file = join(dir, `${role}.txt`);
    const child = spawn(process.execPath, ['--import', RECORDER, BUILT_ENTRY, role], {
      cwd: root,
      env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info', NODE_NO_WARNINGS: '1', LOADED_MODULES_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    const recorded: Recorded = {
      child,
      lines,
      stop,
      modules: async () => {
        await stop();
        return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      },
    };
    started.push(recorded);
    return recorded;
  };

  /** The first log line with this message, parsed, once the process has written it. */
  const logged = (r: Recorded, msg: string) =>
    until(
      () => {
        if (r.child.exitCode !== null) throw new Error(`exited (${r.child.exitCode}): ${r.lines.join('\n')}`);
        const line = r.lines.find((l) => l.includes(`"msg":"${msg}"`));
        return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      },
      30_000,
      `"${msg}" from the process`,
    );

  const sdksIn = (modules: string[]) => SDKS.filter((sdk) => modules.some((m) => m.includes(`node_modules/${sdk}`)));

  it('the bot answers commands and the Home tab without loading the AWS, Kubernetes or Datadog client', async () => {
    const bot = start('bot');
    const { port } = (await logged(bot, 'bot listening')) as { port: number };
    const user = new SlackUser(
      PEOPLE.requester,
      `http://127.0.0.1:${port}`,
      sandbox.slack,
      SANDBOX_SIGNING_SECRET,
      CHANNELS.team,
    );
    const status = await user.command('/deploy', 'status');
    expect(status.status).toBe(200);
    await until(() => sandbox.slack.responses.length > 0, 5000, 'the status reply');
    const { view } = await user.requestDeploy('acme-api v1.5.0');
    expect(view.callback_id).toBe('deploy_checklist');
    await user.openHome();

    const modules = await bot.modules();
    // The recorder works: the bot's own dependencies are there.
    expect(modules.some((m) => m.includes('node_modules/@slack/bolt/'))).toBe(true);
    expect(modules.some((m) => m.endsWith('/dist/src/app/bolt-app.js'))).toBe(true);
    expect(sdksIn(modules)).toEqual([]);
    expect(modules.filter((m) => m.endsWith('/build-providers.js'))).toEqual([]);
    // Nor the queue dashboard, which is off unless its credential is set.
    expect(modules.filter((m) => m.includes('node_modules/@bull-board/'))).toEqual([]);
  });

  it('the worker loads all three', async () => {
    const worker = start('worker');
    await logged(worker, 'worker started');
    expect(sdksIn(await worker.modules())).toEqual(SDKS);
  });
});
