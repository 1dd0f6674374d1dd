import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The parts of V8's `.cpuprofile` (what `node --cpu-prof` writes) that self time needs. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  /** `functionName (where:line)`, or a package / V8 bucket. */
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  functions: HotSpot[];
  /** Self time by package (`node_modules/@slack/bolt`), Node internals, the project's own files, GC. */
  packages: HotSpot[];
  /**
   * Time with the package anywhere on the (synchronous) stack: who caused the work that Node
   * internals and V8 did. Node internals and V8 buckets are left out; shares add up to more than 100 %.
   */
  inclusive: HotSpot[];
}

const IDLE = '(idle)';

/** `file:///…/node_modules/@slack/bolt/dist/App.js` → `@slack/bolt`; project files by path; node: internals as `node:internal`. */
export function packageOf(url: string, root = ''): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node:internal';
  // Nested installs: the last node_modules segment names the package.
  const installed = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].at(-1)?.[1];
  if (installed) return installed;
  const path = url.replace(/^file:\/\//, '');
  const relative = root && path.startsWith(root) ? path.slice(root.length) : path;
  return relative.split('/').slice(0, 2).join('/') || relative;
}

/** Self time per function and per package, heaviest first; idle time left out. */
export function summarizeProfile(profile: CpuProfile, file: string, root = '', top = 12): ProfileSummary {
  const selfById = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time from the previous sample to sample i: it belongs to what ran in between.
    samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (deltas[i + 1] ?? 0) / 1000));
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = selfById.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === IDLE) continue;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(root, '')}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const pkg = functionName.startsWith('(') && !url ? functionName : packageOf(url, root);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  const busyMs = [...byFunction.values()].reduce((sum, ms) => sum + ms, 0);
  const inclusive = inclusiveByPackage(profile, selfById, root);
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({
        name,
        selfMs: Math.round(selfMs),
        percent: busyMs > 0 ? Math.round((selfMs / busyMs) * 1000) / 10 : 0,
      }));
  return {
    file,
    busyMs: Math.round(busyMs),
    functions: rank(byFunction),
    packages: rank(byPackage),
    inclusive: rank(inclusive),
  };
}

function inclusiveByPackage(
  profile: CpuProfile,
  selfById: ReadonlyMap<number, number>,
  root: string,
): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map<string, number>();
  for (const [id, ms] of selfById) {
    if (byId.get(id)?.callFrame.functionName === IDLE) continue;
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      if (url && !url.startsWith('node:')) onStack.add(packageOf(url, root));
    }
    for (const pkg of onStack) totals.set(pkg, (totals.get(pkg) ?? 0) + ms);
  }
  return totals;
}

/**
 * One summary per process: `dir` holds a directory per process, and in it a profile per
 * thread; the busiest thread is the process's main one (a module loader such as tsx runs in another).
 */
export async function summarizeProfiles(dir: string, root: string): Promise<ProfileSummary[]> {
  const processes = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const summaries = await Promise.all(
    processes.map(async (name) => {
      const files = (await readdir(join(dir, name))).filter((f) => f.endsWith('.cpuprofile'));
      const threads = await Promise.all(
        files.map(async (f) =>
          summarizeProfile(JSON.parse(await readFile(join(dir, name, f), 'utf8')) as CpuProfile, `${name}/${f}`, root),
        ),
      );
      return threads.sort((a, b) => b.busyMs - a.busyMs)[0];
    }),
  );
  return summaries.filter((s): s is ProfileSummary => s !== undefined);
}
