import { readFile } from 'node:fs/promises';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';

const root = new URL('../../../', import.meta.url);
const text = (path: string) => readFile(new URL(path, root), 'utf8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const kubernetes = async (file: string): Promise<Doc[]> =>
  parseAllDocuments(await text(`deploy/kubernetes/${file}`)).map((d) => d.toJS() as Doc);

describe('docker-compose.yml', () => {
  it('runs Redis with its append-only file on a volume, the bot and the worker on that Redis', async () => {
    const compose = parse(await text('docker-compose.yml'), { merge: true }) as Doc;
    const { redis, bot, worker } = compose.services;
    expect(redis.command.join(' ')).toContain('--appendonly yes');
    expect(redis.command.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(compose.volumes)).toEqual(['redis-data']);
    expect(bot.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', 'bot']);
    expect(worker.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', 'worker']);
    for (const service of [bot, worker]) {
      expect(service.build).toBe('.');
      expect(service.depends_on.redis.condition).toBe('service_healthy');
      expect(service.volumes).toContain(`./services.yaml:${service.environment.SERVICES_FILE}:ro`);
      // What the app itself accepts (a placeholder for the two required secrets).
      expect(() =>
        loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...service.environment }),
      ).not.toThrow();
      expect(new URL(service.environment.REDIS_URL).hostname).toBe('redis');
    }
    expect(bot.ports).toEqual(['3000:3000']);
    expect(worker.volumes.some((v: string) => v.endsWith(`:${worker.environment.KUBECONFIG}:ro`))).toBe(true);
  });
});

describe('Kubernetes manifests', () => {
  it('the worker runs as the ServiceAccount the Role is bound to; the bot has no API token at all', async () => {
    const [account] = await kubernetes('serviceaccount.yaml');
    const binding = (await kubernetes('rbac.yaml')).find((d) => d.kind === 'RoleBinding') as Doc;
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account?.metadata.name, namespace: account?.metadata.namespace },
    ]);
    const worker = (await kubernetes('worker.yaml')).find((d) => d.kind === 'Deployment') as Doc;
    const bot = (await kubernetes('bot.yaml')).find((d) => d.kind === 'Deployment') as Doc;
    expect(worker.spec.template.spec.serviceAccountName).toBe(account?.metadata.name);
    expect(bot.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('bot and worker: their role, the catalog where SERVICES_FILE says, probes on /healthz, a valid environment', async () => {
    for (const [file, role] of [
      ['bot.yaml', 'bot'],
      ['worker.yaml', 'worker'],
    ] as const) {
      const deployment = (await kubernetes(file)).find((d) => d.kind === 'Deployment') as Doc;
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      expect(container.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', role]);
      const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value]));
      expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...env })).not.toThrow();
      const catalogMount = container.volumeMounts.find((m: Doc) => m.name === 'catalog');
      expect(env.SERVICES_FILE.startsWith(`${catalogMount.mountPath}/`)).toBe(true);
      expect(pod.volumes.find((v: Doc) => v.name === 'catalog').configMap.name).toBe('switchyard-catalog');
      expect(container.readinessProbe.httpGet.path).toBe('/healthz');
      expect(container.ports[0].containerPort).toBe(Number(env.PORT));
      expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    }
  });

  it('the kustomization lists every manifest and leaves namespaces as written', async () => {
    const kustomization = parse(await text('deploy/kubernetes/kustomization.yaml')) as Doc;
    expect(kustomization.namespace).toBeUndefined();
    expect([...kustomization.resources].sort()).toEqual([
      'bot.yaml',
      'namespace.yaml',
      'rbac.yaml',
      'redis.yaml',
      'serviceaccount.yaml',
      'worker.yaml',
    ]);
    const redis = (await kubernetes('redis.yaml')).find((d) => d.kind === 'StatefulSet') as Doc;
    expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--appendonly yes');
    expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--maxmemory-policy noeviction');
  });
});
