import { parseStartTime } from '../src/domain/schedule-time.js';
import { versionHint, versionProblem } from '../src/domain/version.js';
import type { Catalog, Strategy } from '../src/runbook/catalog.js';
import { environmentNames } from '../src/runbook/environments.js';
import { echo, escapeText } from '../views/text.js';

const STRATEGIES: readonly Strategy[] = ['blue-green', 'canary', 'rolling'];

export const DEPLOY_USAGE = [
  '`/deploy &lt;service&gt; &lt;version&gt; [&lt;environment&gt;] [blue-green|canary|rolling] [hotfix] [dry-run] [at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window]` — open the pre-deploy checklist (with `at`: start then)',
  '`/deploy promote &lt;service&gt; [&lt;environment&gt;]` — open the checklist for the version that last completed where the environment takes its versions from',
  '`/deploy status [service] [environment]` — active deployments',
  '`/deploy history &lt;service&gt; [&lt;environment&gt;] [n]` — the last n deployments',
  '`/deploy clear &lt;service&gt; &lt;version&gt; [&lt;environment&gt;] &lt;RCA link&gt;` — lift the block on a rolled-back version (release managers)',
  '`/deploy freeze &lt;service|all&gt; [&lt;environment&gt;] &lt;reason…&gt;` / `/deploy unfreeze &lt;service|all&gt; [&lt;environment&gt;]` — block or allow new deployments, in one environment or (none named) in every one (release managers)',
  "`/deploy cancel &lt;service&gt; [&lt;version&gt;] [&lt;environment&gt;]` — cancel a queued, scheduled or unapproved deployment (your own; release managers: anyone's)",
  '`/deploy help` — this text',
  '`/rollback &lt;service&gt; [&lt;environment&gt;] [reason…]` — roll back the active or most recent deployment',
].join('\n');

/**
 * `environment` is the one named in the text; none named means the catalog's default environment
 * (for freeze and unfreeze: every environment; for status: all of them; for promote: the one a
 * version is eligible for).
 */
export type DeployCommand =
  | { kind: 'help' }
  | { kind: 'status'; service?: string; environment?: string }
  | { kind: 'history'; service: string; limit: number; environment?: string }
  | { kind: 'clear'; service: string; version: string; rca: string; environment?: string }
  | { kind: 'freeze'; scope: string; reason: string; environment?: string }
  | { kind: 'unfreeze'; scope: string; environment?: string }
  | { kind: 'promote'; service: string; environment?: string }
  | { kind: 'cancel'; service: string; version?: string; environment?: string }
  | {
      kind: 'deploy';
      service: string;
      version: string;
      strategy?: Strategy;
      hotfix: boolean;
      dryRun: boolean;
      environment?: string;
      /** When to start (`at …`); none: as soon as it is approved. */
      startAt?: number;
    };

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

/** The refusal of a word where an environment may stand, naming the environments the catalog has. */
export const unknownEnvironment = (environments: readonly string[], word: string): string =>
  `unknown environment \`${echo(word)}\`; known environments: ${environments.join(', ')}`;

const START_FORMS = '`HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]` or `next-window`';

/**
 * Parses the text after `/deploy`; every error names what was wrong and what is accepted.
 * `now` is when it was typed: `at HH:MM` means the next such time after it.
 */
export function parseDeployText(text: string, catalog: Catalog, now: number): Parsed<DeployCommand> {
  const [first, ...rest] = words(text);
  const environments = environmentNames(catalog);
  const isEnvironment = (word: string | undefined): word is string => word !== undefined && environments.includes(word);
  // A catalog without environments has production alone: its errors read as they always did.
  const orAfterEnvironment = catalog.environments ? ` (or after an environment: ${environments.join(', ')})` : '';
  if (!first || first === 'help') return { ok: true, command: { kind: 'help' } };
  if (first === 'status') {
    const [name, environment] = rest;
    if (catalog.environments && isEnvironment(name) && environment === undefined)
      return { ok: true, command: { kind: 'status', environment: name } };
    if (name !== undefined && !knownService(catalog, name))
      return fail(unknownService(Object.keys(catalog.services), name));
    // Words after the service were never read in a catalog without environments; they still are not.
    if (!catalog.environments) return { ok: true, command: { kind: 'status', service: name } };
    if (environment !== undefined && !isEnvironment(environment))
      return fail(unknownEnvironment(environments, environment));
    return { ok: true, command: { kind: 'status', service: name, environment } };
  }
  if (first === 'history') {
    const service = knownService(catalog, rest[0]);
    if (!service) return fail(unknownService(Object.keys(catalog.services), rest[0]));
    const environment = isEnvironment(rest[1]) ? rest[1] : undefined;
    const count = environment === undefined ? rest[1] : rest[2];
    const limit = count === undefined ? 10 : Number(count);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50)
      return fail(`\`${echo(count ?? '')}\` is not a count; give a whole number from 1 to 50${orAfterEnvironment}`);
    return { ok: true, command: { kind: 'history', service, limit, environment } };
  }
  if (first === 'clear') {
    const [name, version = '', ...more] = rest;
    const service = knownService(catalog, name);
    if (!service) return fail(unknownService(Object.keys(catalog.services), name));
    const refused = versionError(version, catalog.services[service]?.versionPattern);
    if (refused !== undefined) return fail(refused);
    const environment = isEnvironment(more[0]) ? more[0] : undefined;
    const rca = environment === undefined ? more[0] : more[1];
    if (!rca || !/^https?:\/\/\S+$/.test(rca))
      return fail(`give the link to the root-cause analysis (https://…) after the version${orAfterEnvironment}`);
    return { ok: true, command: { kind: 'clear', service, version, rca, environment } };
  }
  if (first === 'freeze' || first === 'unfreeze') {
    const [target, ...after] = rest;
    const scope = target === 'all' ? 'all' : knownService(catalog, target);
    if (!scope) return fail(`${unknownService(Object.keys(catalog.services), target)} (or \`all\`)`);
    // Without declared environments the words after the scope are all the reason, as they always were.
    const environment = catalog.environments && isEnvironment(after[0]) ? after[0] : undefined;
    const reason = environment === undefined ? after : after.slice(1);
    if (first === 'unfreeze') {
      if (catalog.environments && after.length > 0 && environment === undefined)
        return fail(unknownEnvironment(environments, after[0] ?? ''));
      return { ok: true, command: { kind: 'unfreeze', scope, environment } };
    }
    if (reason.length === 0)
      return fail('give the reason for the freeze after the service; it is shown to anyone who tries to deploy');
    return { ok: true, command: { kind: 'freeze', scope, reason: reason.join(' ').slice(0, 500), environment } };
  }
  if (first === 'promote') {
    const [name, environment, extra] = rest;
    const service = knownService(catalog, name);
    if (!service)
      return fail(
        `${unknownService(Object.keys(catalog.services), name)}. Usage: \`/deploy promote &lt;service&gt; [&lt;environment&gt;]\``,
      );
    if (environment !== undefined && !isEnvironment(environment))
      return fail(unknownEnvironment(environments, environment));
    if (extra !== undefined) return fail('give at most a service and an environment after `promote`');
    return { ok: true, command: { kind: 'promote', service, environment } };
  }
  if (first === 'cancel') {
    const [name, ...after] = rest;
    const service = knownService(catalog, name);
    if (!service)
      return fail(
        `${unknownService(Object.keys(catalog.services), name)}. Usage: \`/deploy cancel &lt;service&gt; [&lt;version&gt;] [&lt;environment&gt;]\``,
      );
    let version: string | undefined;
    let environment: string | undefined;
    // A version and an environment never look alike, so either may come first.
    for (const word of after) {
      if (isEnvironment(word)) {
        if (environment) return fail(`give at most one environment (known environments: ${environments.join(', ')})`);
        environment = word;
      } else if (version) {
        return fail(
          `\`${echo(word)}\` is one word too many; give at most a version and an environment after \`cancel ${service}\``,
        );
      } else {
        const refused = versionError(word, catalog.services[service]?.versionPattern);
        if (refused !== undefined) return fail(`${refused}${orAfterEnvironment}`);
        version = word;
      }
    }
    return { ok: true, command: { kind: 'cancel', service, version, environment } };
  }
  const service = knownService(catalog, first);
  if (!service)
    return fail(
      `${unknownService(Object.keys(catalog.services), first)}. Usage: \`/deploy &lt;service&gt; &lt;version&gt; [blue-green|canary|rolling] [hotfix] [dry-run] [at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window]\``,
    );
  const [version, ...flags] = rest;
  const pattern = catalog.services[service]?.versionPattern;
  if (!version) return fail(`give a version after \`${service}\`: ${escapeText(versionHint(pattern))}`);
  const refused = versionError(version, pattern);
  if (refused !== undefined) return fail(refused);
  let strategy: Strategy | undefined;
  let hotfix = false;
  let dryRun = false;
  let environment: string | undefined;
  let startAt: number | undefined;
  for (let i = 0; i < flags.length; i += 1) {
    const flag = flags[i] as string;
    if (flag === 'at') {
      if (startAt !== undefined) return fail(`give \`at\` once, with one start time: ${START_FORMS}`);
      const when = flags[i + 1];
      i += 1;
      if (when === undefined) return fail(`give a start time after \`at\`: ${START_FORMS}`);
      const start = parseStartTime(when, catalog.window, now);
      if (!start.ok) return fail(escapeText(start.error));
      startAt = start.startAt;
    } else if ((STRATEGIES as readonly string[]).includes(flag)) {
      if (strategy) return fail('give at most one strategy');
      strategy = flag as Strategy;
    } else if (flag === 'hotfix') hotfix = true;
    else if (flag === 'dry-run') dryRun = true;
    else if (isEnvironment(flag)) {
      if (environment) return fail(`give at most one environment (known environments: ${environments.join(', ')})`);
      environment = flag;
    } else
      return fail(
        `unknown option \`${echo(flag)}\`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window${catalog.environments ? `, or an environment (known environments: ${environments.join(', ')})` : ''}`,
      );
  }
  return { ok: true, command: { kind: 'deploy', service, version, strategy, hotfix, dryRun, environment, startAt } };
}
