import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../support/harness.js';
import { findRedisServer, freePort } from '../../support/resilience/redis-server.js';
import { killed, spawnWorker } from '../../support/worker-process.js';

const binary = findRedisServer();
const PASSWORD = 'acl-password-7f3c9a1e5b';

/** A private CA and a server certificate for localhost, as a team with its own PKI has. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=switchyard-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/**
 * A Redis that refuses anonymous clients (the default user is off; an ACL user with a password
 * may do everything Switchyard and BullMQ need) and speaks TLS on a second port.
 */
describe.skipIf(!binary)('Redis with an ACL user and TLS (REDIS_URL with credentials, rediss://)', () => {
  let dir: string;
  let server: ChildProcess;
  let plainPort: number;
  let tlsPort: number;
  let ca: string;
  let h: Harness | undefined;
  let worker: (ChildProcess & { output: string[] }) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-tls-'));
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    const files = certificates(dir);
    ca = files.ca;
    [plainPort, tlsPort] = [await freePort(), await freePort()];
    server = spawn(
      binary as string,
      [
        '--port',
        String(plainPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        files.cert,
        '--tls-key-file',
        files.key,
        '--tls-ca-cert-file',
        files.ca,
        '--tls-auth-clients',
        'no',
        '--user',
        'default',
        'off',
        '--user',
        'switchyard',
        'on',
        `>${PASSWORD}`,
        '~*',
        '&*',
        '+@all',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const output: string[] = [];
    server.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(`redis://switchyard:${PASSWORD}@127.0.0.1:${plainPort}`, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      const answer = await probe.connect().then(
        () => probe.ping(),
        () => undefined,
      );
      probe.disconnect();
      if (answer === 'PONG') break;
      if (server.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server did not start: ${output.join('').slice(-1000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    if (worker) await killed(worker);
    await h?.close();
    if (server) await killed(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('anonymous clients are refused by this Redis (the test would prove nothing otherwise)', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(plainPort, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (chunk) => {
        resolve(chunk.toString());
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
  });

  it('a deployment runs with the bot on the ACL user and a worker process on rediss://, and no log line shows the password', async () => {
    h = await startHarness({
      redisUrl: `redis://switchyard:${PASSWORD}@127.0.0.1:${plainPort}`,
      roles: { bot: true, worker: false },
    });
    // The worker trusts the team's private CA the way Node does everywhere: NODE_EXTRA_CA_CERTS.
    const rediss = `rediss://switchyard:${PASSWORD}@localhost:${tlsPort}`;
    worker = spawnWorker({
      ...(await h.sandbox.env(rediss, h.prefix)),
      NODE_EXTRA_CA_CERTS: ca,
      PORT: String(await freePort()),
      LOG_LEVEL: 'debug',
    });
    const done = await h
      .deployAndApprove('v1.5.0')
      .then(() => h!.waitForPhase(['succeeded', 'failed', 'rolled-back'], 60_000));
    expect(done.phase, worker.output.join('').slice(-2000)).toBe('succeeded');
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    const clients = await h.redis.client('LIST');
    expect(String(clients)).toContain('user=switchyard');
    expect(worker.output.join('')).not.toContain(PASSWORD);
  });
});
