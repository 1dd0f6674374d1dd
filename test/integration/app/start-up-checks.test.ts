import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigWithContexts } from '../../../sandbox/kubernetes.js';
import { startSlackStandIn, type SlackStandIn } from '../../../sandbox/slack.js';
import { BUILT_ENTRY } from '../../support/built-entry.js';

/**
 * `node dist/main.js` with placeholder or missing credentials stops at start, before it serves
 * anything, with one line naming what is wrong and exit code 1. The Slack stand-in refuses any
 * token but its own, as Slack does (`invalid_auth`). Each process gets an empty HOME, so no
 * ~/.kube/config or ~/.aws of this machine's user is found.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));

let slack: SlackStandIn;
let dir: string;
let home: string;
let kubeconfig: string;

beforeAll(async () => {
  slack = await startSlackStandIn();
  dir = await mkdtemp(join(tmpdir(), 'switchyard-start-'));
  home = join(dir, 'home');
  await writeFile(join(dir, '.keep'), '');
  kubeconfig = join(dir, 'kubeconfig.yaml');
  // The example catalog's environments: production on the current context, staging on its own.
  await writeFile(
    kubeconfig,
    kubeconfigWithContexts({ production: { url: 'http://127.0.0.1:1' }, staging: { url: 'http://127.0.0.1:1' } }),
  );
});

afterAll(async () => {
  await slack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the built entry with only these variables (and PATH); resolves with its exit code and stderr lines. */
function start(role: 'bot' | 'worker', env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, [BUILT_ENTRY, role], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      NODE_NO_WARNINGS: '1',
      LOG_LEVEL: 'warn',
      SERVICES_FILE: join(root, 'services.example.yaml'),
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: 'start-up-checks',
      // Nothing listens there: a check that got past these would hang on Redis, not exit.
      REDIS_URL: 'redis://127.0.0.1:1',
      PORT: '0',
      // This machine is no EC2 instance: the chain's last link would only wait for the metadata endpoint.
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve({ code, lines: stderr.split('\n').filter(Boolean) })),
  );
}

const WORKER_ENV = {
  KUBECONFIG: '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIASTARTUPCHECKS',
  AWS_SECRET_ACCESS_KEY: 'start-up-checks',
};

describe('start-up checks of the built entry', () => {
  it('a bot token Slack refuses: one line naming SLACK_BOT_TOKEN and the refusal, exit 1', async () => {
    const result = await start('bot', { SLACK_BOT_TOKEN: 'xoxb-placeholder' });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      "switchyard: SLACK_BOT_TOKEN was refused by Slack (invalid_auth): it is not a valid token: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
    ]);
    expect(slack.callsTo('auth.test').some((call) => call.error === 'invalid_auth')).toBe(true);
  });

  it('Slack out of reach: one line saying auth.test got no answer where', async () => {
    const result = await start('bot', { SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: 'http://127.0.0.1:1/api/' });
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(
      /^switchyard: SLACK_BOT_TOKEN could not be checked: Slack did not answer auth\.test at http:\/\/127\.0\.0\.1:1\/api\/ \(.+\); check SLACK_API_URL$/,
    );
  });

  it('a worker without any Kubernetes configuration refuses to start, naming KUBECONFIG', async () => {
    const result = await start('worker', { SLACK_BOT_TOKEN: slack.token, ...WORKER_ENV });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `switchyard: no Kubernetes configuration: KUBECONFIG is not set, ${join(home, '.kube', 'config')} does not exist` +
        ' and this is not a pod with a service account token; set KUBECONFIG to a kubeconfig file',
    ]);
  });

  it('a kubeconfig without a current context is no silent default: the worker names its contexts', async () => {
    const file = join(dir, 'no-current.yaml');
    await writeFile(file, kubeconfigWithContexts({ staging: { url: 'http://127.0.0.1:1' } }, ''));
    const result = await start('worker', { SLACK_BOT_TOKEN: slack.token, ...WORKER_ENV, KUBECONFIG: file });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `switchyard: KUBECONFIG (${file}) has no usable current context (current-context is not set):` +
        ' set current-context to one of its contexts (staging)',
    ]);
  });

  it('a worker without AWS_REGION names it', async () => {
    const result = await start('worker', {
      SLACK_BOT_TOKEN: slack.token,
      ...WORKER_ENV,
      KUBECONFIG: kubeconfig,
      AWS_REGION: '',
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'switchyard: AWS_REGION is missing: the worker calls the ELB API in one region (set AWS_REGION, or a region in the AWS_PROFILE profile)',
    ]);
  });

  it('half a key pair names the missing half', async () => {
    const result = await start('worker', {
      SLACK_BOT_TOKEN: slack.token,
      ...WORKER_ENV,
      KUBECONFIG: kubeconfig,
      AWS_SECRET_ACCESS_KEY: '',
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'switchyard: AWS_SECRET_ACCESS_KEY is missing: AWS_ACCESS_KEY_ID is set, and the two go together',
    ]);
  });

  it('no credentials anywhere in the AWS SDK chain: the worker names the variables that would give some', async () => {
    const result = await start('worker', {
      SLACK_BOT_TOKEN: slack.token,
      ...WORKER_ENV,
      KUBECONFIG: kubeconfig,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(
      /^switchyard: no AWS credentials for the ELB API: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or a web identity \(AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, .*\(the AWS SDK: .+\)$/,
    );
  });

  it('Socket Mode needs no SLACK_SIGNING_SECRET: the bot gets past configuration to its token check', async () => {
    const result = await start('bot', {
      SLACK_BOT_TOKEN: 'xoxb-placeholder',
      SLACK_SIGNING_SECRET: '',
      SLACK_APP_TOKEN: slack.appToken,
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      expect.stringMatching(/^switchyard: SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)/),
    ]);
  });
});
