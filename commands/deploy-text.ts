import { versionHint, versionProblem } from '../src/domain/version.js';
import type { Catalog, Strategy } from '../src/runbook/catalog.js';
import { echo, escapeText } from '../views/text.js';

const STRATEGIES: readonly Strategy[] = ['blue-green', 'canary', 'rolling'];

export const DEPLOY_USAGE = [
  '`/deploy &lt;service&gt; &lt;version&gt; [blue-green|canary|rolling] [hotfix] [dry-run]` — open the pre-deploy checklist',
  '`/deploy status [service]` — active deployments',
  '`/deploy history &lt;service&gt; [n]` — the last n deployments',
  '`/deploy clear &lt;service&gt; &lt;version&gt; &lt;RCA link&gt;` — lift the block on a rolled-back version (release managers)',
  '`/deploy freeze &lt;service|all&gt; &lt;reason…&gt;` / `/deploy unfreeze &lt;service|all&gt;` — block or allow new deployments (release managers)',
  '`/deploy help` — this text',
  '`/rollback &lt;service&gt; [reason…]` — roll back the active or most recent deployment',
].join('\n');

export type DeployCommand =
  | { kind: 'help' }
  | { kind: 'status'; service?: string }
  | { kind: 'history'; service: string; limit: number }
  | { kind: 'clear'; service: string; version: string; rca: string }
  | { kind: 'freeze'; scope: string; reason: string }
  | { kind: 'unfreeze'; scope: string }
  | { kind: 'deploy'; service: string; version: string; strategy?: Strategy; hotfix: boolean; dryRun: boolean };

export type Parsed<T> = { ok: true; command: T } | { ok: false; error: string };

const fail = (error: string): Parsed<never> => ({ ok: false, error });

/** Slack turns `<`, `>` and `&` into entities and wraps links; undo just enough to read words. */
const words = (text: string): string[] =>
  text
    .replace(/<(https?:[^|>]+)(?:\|[^>]*)?>/g, '$1')
    .trim()
    .split(/\s+/)
    .filter(Boolean);

/** Why `version` is not one of the service's, naming what is accepted; undefined when it is one. */
export const versionError = (version: string, pattern: string | undefined): string | undefined => {
  const problem = versionProblem(version, pattern);
  return problem === undefined ? undefined : `\`${echo(version)}\` ${escapeText(problem)}`;
};

const knownService = (catalog: Catalog, name: string | undefined): string | undefined =>
  name !== undefined && Object.hasOwn(catalog.services, name) ? name : undefined;

/** The refusal of a service name the catalog does not have (or of none), naming those it has. */
export const unknownService = (services: readonly string[], name: string | undefined): string => {
  const known = services.join(', ') || '(none)';
  return name
    ? `unknown service \`${echo(name)}\`; known services: ${known}`
    : `name a service; known services: ${known}`;
};

/** Parses the text after `/deploy`; every error names what was wrong and what is accepted. */
export function parseDeployText(text: string, catalog: Catalog): Parsed<DeployCommand> {
  const [first, ...rest] = words(text);
  if (!first || first === 'help') return { ok: true, command: { kind: 'help' } };
  if (first === 'status') {
    if (rest[0] !== undefined && !knownService(catalog, rest[0]))
      return fail(unknownService(Object.keys(catalog.services), rest[0]));
    return { ok: true, command: { kind: 'status', service: rest[0] } };
  }
  if (first === 'history') {
    const service = knownService(catalog, rest[0]);
    if (!service) return fail(unknownService(Object.keys(catalog.services), rest[0]));
    const limit = rest[1] === undefined ? 10 : Number(rest[1]);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50)
      return fail(`\`${echo(rest[1] ?? '')}\` is not a count; give a whole number from 1 to 50`);
    return { ok: true, command: { kind: 'history', service, limit } };
  }
  if (first === 'clear') {
    const [name, version = '', rca] = rest;
    const service = knownService(catalog, name);
    if (!service) return fail(unknownService(Object.keys(catalog.services), name));
    const refused = versionError(version, catalog.services[service]?.versionPattern);
    if (refused !== undefined) return fail(refused);
    if (!rca || !/^https?:\/\/\S+$/.test(rca))
      return fail('give the link to the root-cause analysis (https://…) after the version');
    return { ok: true, command: { kind: 'clear', service, version, rca } };
  }
  if (first === 'freeze' || first === 'unfreeze') {
    const [target, ...reason] = rest;
    const scope = target === 'all' ? 'all' : knownService(catalog, target);
    if (!scope) return fail(`${unknownService(Object.keys(catalog.services), target)} (or \`all\`)`);
    if (first === 'unfreeze') return { ok: true, command: { kind: 'unfreeze', scope } };
    if (reason.length === 0)
      return fail('give the reason for the freeze after the service; it is shown to anyone who tries to deploy');
    return { ok: true, command: { kind: 'freeze', scope, reason: reason.join(' ').slice(0, 500) } };
  }
  const service = knownService(catalog, first);
  if (!service)
    return fail(
      `${unknownService(Object.keys(catalog.services), first)}. Usage: \`/deploy &lt;service&gt; &lt;version&gt; [blue-green|canary|rolling] [hotfix] [dry-run]\``,
    );
  const [version, ...flags] = rest;
  const pattern = catalog.services[service]?.versionPattern;
  if (!version) return fail(`give a version after \`${service}\`: ${escapeText(versionHint(pattern))}`);
  const refused = versionError(version, pattern);
  if (refused !== undefined) return fail(refused);
  let strategy: Strategy | undefined;
  let hotfix = false;
  let dryRun = false;
  for (const flag of flags) {
    if ((STRATEGIES as readonly string[]).includes(flag)) {
      if (strategy) return fail('give at most one strategy');
      strategy = flag as Strategy;
    } else if (flag === 'hotfix') hotfix = true;
    else if (flag === 'dry-run') dryRun = true;
    else return fail(`unknown option \`${echo(flag)}\`; accepted: blue-green, canary, rolling, hotfix, dry-run`);
  }
  return { ok: true, command: { kind: 'deploy', service, version, strategy, hotfix, dryRun } };
}
