import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ConfigInvalid } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { AlbTraffic } from '../../../src/providers/traffic/alb.js';
import { CHANNELS, DD_KEYS, PEOPLE, SANDBOX_SIGNING_SECRET } from '../../../sandbox/sandbox.js';
import { elbv2ErrorXml } from '../../../sandbox/elbv2.js';
import { kubernetesStatus } from '../../../sandbox/kubernetes.js';
import { startHarness, until, type Harness } from '../../support/harness.js';
import { BUILT_ENTRY } from '../../support/built-entry.js';

/**
 * Secrets never reach a log line or a Slack message, even at LOG_LEVEL=debug while every
 * provider fails: Slack (HTTP 500, invalid_auth), Datadog (403), the ELB API (AccessDenied) and
 * the Kubernetes API (401). The credentials are the ones the stand-ins accept, plus an AWS
 * secret key that only the ELB client holds.
 */

const AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSANDBOXKEY';
const P99 = { name: 'p99 latency', query: 'p99:trace.http.request.duration{service:acme-api,env:prod}', max: 0.8 };

describe('secrets stay out of logs and Slack while providers fail', () => {
  let h: Harness;
  const lines: string[] = [];
  let secrets: Record<string, string>;

  beforeAll(async () => {
    h = await startHarness({
      bakeSeconds: 1,
      service: { gates: { intervalSeconds: 0.3, failureLimit: 0, inconclusiveLimit: 2, metrics: [P99] } },
      env: { LOG_LEVEL: 'debug', DD_API_KEY: DD_KEYS.apiKey, DD_APP_KEY: DD_KEYS.appKey },
      log: createLogger('debug', { write: (line: string) => void lines.push(line) }),
      providers: (sandbox) => ({
        ...sandbox.providers(),
        traffic: new AlbTraffic(
          new ElasticLoadBalancingV2Client({
            endpoint: sandbox.elbv2.url,
            region: 'us-east-1',
            credentials: { accessKeyId: 'AKIASANDBOXSECRETS', secretAccessKey: AWS_SECRET_ACCESS_KEY },
          }),
        ),
      }),
    });
    secrets = {
      SLACK_BOT_TOKEN: h.sandbox.slack.token,
      SLACK_SIGNING_SECRET: SANDBOX_SIGNING_SECRET,
      DD_API_KEY: DD_KEYS.apiKey,
      DD_APP_KEY: DD_KEYS.appKey,
      AWS_SECRET_ACCESS_KEY,
      'the kubeconfig token': h.sandbox.kubernetes.kubeConfig().getCurrentUser()?.token as string,
    };
    expect(Object.values(secrets).every((s) => s.length >= 10)).toBe(true);
  });
  afterAll(async () => h.close());
  afterEach(async () => {
    h.sandbox.slack.faults.clear();
    h.sandbox.elbv2.faults.clear();
    h.sandbox.kubernetes.faults.clear();
    h.sandbox.datadog.faults.clear();
  });

  /** Every text Slack received from the bot: messages, edits, ephemerals, responses, views. */
  const slackContent = (): string =>
    JSON.stringify([
      h.sandbox.slack.calls.map((c) => c.args),
      h.sandbox.slack.responses.map((r) => r.body),
      h.sandbox.slack.views,
    ]);

  const expectNoSecrets = () => {
    const slack = slackContent();
    for (const [name, value] of Object.entries(secrets)) {
      expect(
        lines.filter((line) => line.includes(value)),
        `${name} in a log line`,
      ).toEqual([]);
      expect(slack.includes(value), `${name} in a Slack message`).toBe(false);
    }
  };

  /** Log lines (parsed) at warn or above with an error attached, since `from`. */
  const errorLines = (from: number) =>
    lines
      .slice(from)
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } })
      .filter((entry) => entry.level >= 40 && entry.err);

  const announcements = () =>
    h.sandbox.slack
      .messages(CHANNELS.deployments)
      .filter((m) => !m.thread_ts && m.text.includes('Production Deployment Scheduled'));

  const deployUntil = async (version: string, phases: ('failed' | 'paused' | 'rolled-back')[]) => {
    const before = announcements().length;
    const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
    expect((await h.requester.submitChecklist(view)).body).toBe('');
    const announcement = await until(() => announcements()[before], 5000, `the announcement of ${version}`);
    await h.releaseManager.press(announcement, 'approve_deployment');
    return h.waitForPhase(phases, 30_000);
  };

  it('Slack answers invalid_auth to the announcement: logged and told to the requester, without the token', async () => {
    const from = lines.length;
    h.sandbox.slack.faults.inject({
      status: 200,
      body: JSON.stringify({ ok: false, error: 'invalid_auth' }),
      match: '/api/chat.postMessage',
    });
    const { view } = await h.requester.requestDeploy('acme-api v1.2.3');
    await h.requester.submitChecklist(view);
    const told = await until(
      () => h.sandbox.slack.ephemerals(PEOPLE.requester).find((e) => e.text.includes('invalid_auth')),
      5000,
      'the requester told',
    );
    expect(told.text).toContain('was not requested');
    expect(
      errorLines(from)
        .map((e) => e.err?.message)
        .join('\n'),
    ).toContain('invalid_auth');
    expectNoSecrets();
  });

  it('the ELB API answers AccessDenied (and Slack a 500 on the way): the deployment fails, no secret key anywhere', async () => {
    const from = lines.length;
    h.sandbox.elbv2.faults.inject({
      status: 403,
      times: Infinity,
      headers: { 'content-type': 'text/xml' },
      body: elbv2ErrorXml(
        'AccessDenied',
        'User: arn:aws:iam::123456789012:user/switchyard is not authorized to perform: elasticloadbalancing:DescribeListeners',
      ),
    });
    h.sandbox.slack.faults.inject({
      status: 500,
      body: 'upstream connect error',
      match: '/api/chat.postMessage',
      times: 1,
    });
    const failed = await deployUntil('v1.2.4', ['failed']);
    expect(failed.failureReason).toContain('AccessDenied');
    await until(
      () =>
        h.sandbox.slack
          .messages(CHANNELS.deployments)
          .find((m) => m.text.includes('Deployment Failed') && m.text.includes('AccessDenied')),
      5000,
      'the failure message',
    );
    expect(errorLines(from).length).toBeGreaterThan(0);
    expectNoSecrets();
  });

  it('the Kubernetes API answers 401: the deployment fails, no bearer token anywhere', async () => {
    h.sandbox.kubernetes.faults.inject({
      status: 401,
      times: Infinity,
      body: JSON.stringify(kubernetesStatus(401, 'Unauthorized', 'Unauthorized')),
    });
    const failed = await deployUntil('v1.2.5', ['failed']);
    expect(failed.failureReason).toContain('401');
    await until(
      () =>
        h.sandbox.slack
          .messages(CHANNELS.deployments)
          .find((m) => m.text.includes('Deployment Failed') && m.text.includes('401')),
      5000,
      'the failure message',
    );
    expectNoSecrets();
  });

  it('Datadog answers 403: gates inconclusive, on-call paged, then rolled back; no Datadog key anywhere', async () => {
    h.sandbox.datadog.faults.inject({
      status: 403,
      times: Infinity,
      match: '/api/v1/query',
      body: JSON.stringify({ errors: ['Forbidden'] }),
    });
    const paused = await deployUntil('v1.2.6', ['paused', 'rolled-back']);
    expect(paused.phase).toBe('paused');
    await until(
      () => h.sandbox.slack.messages(CHANNELS.deployments).find((m) => m.text.includes('is paused')),
      5000,
      'the paused alert',
    );
    expect(h.sandbox.datadog.requests.some((r) => r.headers['dd-api-key'] === DD_KEYS.apiKey)).toBe(true);
    await h.requester.command('/rollback', 'acme-api datadog says 403');
    await h.waitForPhase(['rolled-back'], 20_000);
    expectNoSecrets();
  });
});

describe('a configuration error next to real-looking secrets', () => {
  const SECRETS = {
    SLACK_BOT_TOKEN: 'xoxb-2412341234-5827467201234-Rk3jXmN8qL1vP0wY2zT7aBcD',
    SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
    SLACK_APP_TOKEN: 'xapp-1-A0SWITCHYRD-4512345678901-0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    DD_API_KEY: '3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f',
    DD_APP_KEY: '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };
  const expectNoSecretIn = (text: string) => {
    for (const [name, value] of Object.entries(SECRETS))
      expect(text.includes(value), `${name} in "${text}"`).toBe(false);
  };

  it.each([
    ['a malformed PORT', { PORT: 'eighty' }, 'PORT must be a port number'],
    [
      'a bot token put where the app token goes',
      { SLACK_APP_TOKEN: SECRETS.SLACK_BOT_TOKEN },
      'SLACK_APP_TOKEN must start with xapp-',
    ],
    [
      'a Slack API URL carrying the token',
      { SLACK_API_URL: `https://slack.com/api/chat.postMessage?token=${SECRETS.SLACK_BOT_TOKEN}` },
      'SLACK_API_URL must end in /api/',
    ],
    [
      'a Redis URL that is not one, with a password in it',
      { REDIS_URL: `http://:${SECRETS.DD_API_KEY}@cache:6379` },
      'REDIS_URL must be a redis://',
    ],
  ])('%s: the error names the variable and repeats no value', (_name, bad, expected) => {
    const error = (() => {
      try {
        loadConfig({ ...SECRETS, ...bad });
      } catch (e) {
        return e;
      }
      throw new Error('expected loadConfig to throw');
    })();
    expect(error).toBeInstanceOf(ConfigInvalid);
    expect((error as Error).message).toContain(expected);
    expectNoSecretIn((error as Error).message);
    expectNoSecretIn(JSON.stringify(error));
  });

  /** `node dist/main.js` started in `cwd` (where `npm start` looks for `.env`), until it exits. */
  const startIn = async (cwd: string, env: Record<string, string>) => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(process.execPath, [join(root, BUILT_ENTRY)], {
      cwd,
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, ...output };
  };

  it('`npm start` (the built entry point) stops with one line naming the variable and saying no .env was read, and no secret in its output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-start-'));
    try {
      const { code, stdout, stderr } = await startIn(dir, { ...SECRETS, PORT: 'eighty' });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        `switchyard: invalid environment: PORT must be a port number (no .env in ${dir}: copy .env.example to .env and fill it in, or set the variables in the environment)`,
      ]);
      expectNoSecretIn(stdout + stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`npm start` reads .env from its working directory, says so, and the environment wins over the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-start-'));
    try {
      const file = Object.entries({ ...SECRETS, PORT: 'eighty', LOG_LEVEL: 'loud' })
        .map(([name, value]) => `${name}=${value}`)
        .join('\n');
      await writeFile(join(dir, '.env'), `${file}\n`);
      const { code, stdout, stderr } = await startIn(dir, { LOG_LEVEL: 'debug' });
      expect(code).toBe(1);
      // PORT came from the file (the only place it is set); LOG_LEVEL from the environment, or it would be refused too.
      expect(stderr.trim().split('\n')).toEqual([
        `switchyard: invalid environment: PORT must be a port number (variables read from the environment and ${join(dir, '.env')})`,
      ]);
      expectNoSecretIn(stdout + stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
