import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { isOnCall } from '../../../src/domain/policy.js';
import { CatalogSchema, loadCatalog, parseCatalog } from '../../../src/runbook/catalog.js';

/**
 * `services.example.yaml` is the full example the README promises: the real parser loads it, and
 * every key the catalog schema accepts appears in it, set or in a comment.
 */

const FILE = new URL('../../../services.example.yaml', import.meta.url);

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Every key path the schema accepts; `*` stands for a record key or an array element. */
function keyPaths(schema: unknown, path: string[] = []): string[][] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) => [
        [...path, key],
        ...keyPaths(value, [...path, key]),
      ]);
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return keyPaths(def.innerType, path);
    case 'pipe':
      return keyPaths(def.in, path);
    case 'array':
      return keyPaths(def.element, [...path, '*']);
    case 'record':
      return keyPaths(def.valueType, [...path, '*']);
    case 'union':
      return (def.options as unknown[]).flatMap((option) => keyPaths(option, path));
    default:
      return [];
  }
}

/** Whether the parsed YAML holds the path (any record key or array element matches `*`). */
function holds(value: unknown, path: string[]): boolean {
  const [head, ...rest] = path;
  if (head === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const children = head === '*' ? Object.values(value) : Object.hasOwn(value, head) ? [(value as never)[head]] : [];
  return children.some((child) => holds(child, rest));
}

describe('services.example.yaml', () => {
  it('loads with the real catalog parser', async () => {
    const catalog = await loadCatalog(FILE.pathname);
    expect(Object.keys(catalog.services)).toEqual(['acme-api', 'acme-worker']);
    expect(catalog.services['acme-api']?.hooks.preDeploy.map((h) => h.name)).toEqual(['migrate']);
  });

  it('shows every key the schema accepts, set or commented', async () => {
    const text = await readFile(FILE, 'utf8');
    const data = parse(text) as unknown;
    const comments = text
      .split('\n')
      .filter((line) => line.includes('#'))
      .map((line) => line.slice(line.indexOf('#')));
    const paths = keyPaths(CatalogSchema);
    // The walk itself reaches the deep keys, so a broken walk cannot pass by finding nothing.
    expect(paths.map((p) => p.join('.'))).toEqual(
      expect.arrayContaining([
        'services.*.traffic.ruleArn',
        'services.*.gates.metrics.*.maxOverBaseline.delta',
        'services.*.hooks.postDeploy.*.args',
        'services.*.health.urls.main',
        'approvalTimeoutSeconds',
      ]),
    );
    const missing = paths.filter((path) => {
      if (holds(data, path)) return false;
      const key = path.at(-1) ?? '';
      return !comments.some((comment) => new RegExp(`(^|[\\s{,#])${key}:`).test(comment));
    });
    expect(missing.map((p) => p.join('.'))).toEqual([]);
  });
});

describe('slack.onCall', () => {
  it('accepts an Enterprise Grid user id (W…) as the other user fields do', async () => {
    const input = parse(await readFile(FILE, 'utf8')) as { slack: Record<string, unknown> };
    input.slack.onCall = 'W0ONCALL';
    input.slack.releaseManagers = ['W0RM1'];
    const catalog = parseCatalog(input);
    expect(catalog.slack.onCall).toBe('W0ONCALL');
    expect(isOnCall(catalog, 'W0ONCALL')).toBe(true);
    input.slack.onCall = 'X0ONCALL';
    expect(() => parseCatalog(input)).toThrow('slack.onCall: must be a user group (S…) or user (U…) id');
  });
});

describe('keys checked but not acted on yet', () => {
  it('loading a catalog that sets PagerDuty is refused, naming the key; environments are acted on', async () => {
    const input = parse(await readFile(FILE, 'utf8')) as Record<string, unknown> & {
      services: Record<string, Record<string, unknown>>;
    };
    input.environments = { staging: {}, production: { promotedFrom: 'staging' } };
    input.services['acme-api']!.pagerduty = { serviceId: 'PABC123' };
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-catalog-'));
    try {
      const file = join(dir, 'services.yaml');
      await writeFile(file, stringify(input));
      const error = await loadCatalog(file).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).not.toContain('environments');
      expect(error?.message).toContain('services.acme-api.pagerduty: is validated but not acted on');
      // The schema itself accepts them: the refusal is about what this version does, not their shape.
      expect(() => parseCatalog(input)).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
