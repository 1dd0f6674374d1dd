import type { SmokeCheck } from '../../runbook/catalog.js';
import type { HealthProvider, SmokeResult, VersionCheck } from './health.js';

export interface HttpHealthOptions {
  fetch?: typeof fetch;
  /** Milliseconds on a monotonic clock, for latency. */
  now?: () => number;
  /**
   * How many times a smoke check over its latency bound is measured before it fails (default 3).
   * A wrong status or no answer fails at once: only latency is re-measured.
   */
  latencyAttempts?: number;
  /** Starts measuring this process's event-loop lag while one request is timed. */
  lagProbe?: () => LagProbe;
}

/** How late this process's event loop ran while something was timed, in ms. */
export interface Lag {
  /** The longest single stall. */
  worst: number;
  /** All the stalls added up: the most the loop can have added to what was timed. */
  total: number;
}

export interface LagProbe {
  stop(): Lag;
}

/** Smoke latencies retried this many times by default. */
export const DEFAULT_LATENCY_ATTEMPTS = 3;

/** Event-loop lag at or above this is named in a latency failure's evidence. */
export const HIGH_LAG_MS = 50;

const LAG_TICK_MS = 10;

/**
 * Timer drift: a timer due every 10 ms that fires late shows how long the event loop was busy.
 * Latency is timed on this loop, so a busy worker adds its own lag to what the service took;
 * a request's callbacks can each be held up, so the stalls add up.
 */
export function timerDriftProbe(now: () => number = () => performance.now()): LagProbe {
  let expected = now() + LAG_TICK_MS;
  let worst = 0;
  let total = 0;
  const timer = setInterval(() => {
    const t = now();
    const late = Math.max(0, t - expected);
    worst = Math.max(worst, late);
    total += late;
    expected = t + LAG_TICK_MS;
  }, LAG_TICK_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      // A timer still due shows lag too, when the loop has been busy since the last tick.
      const pending = Math.max(0, now() - expected);
      return { worst: Math.round(Math.max(worst, pending)), total: Math.round(total + pending) };
    },
  };
}

/** `build.sha` in `{ build: { sha } }`; undefined when any step is missing. */
function readField(body: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => {
    if (typeof value !== 'object' || value === null) return undefined;
    return (value as Record<string, unknown>)[key];
  }, body);
}

/**
 * Deployers often give a short SHA while /healthz reports the full one (or the other way
 * round): two hex SHAs of at least 7 characters match when one is a prefix of the other.
 */
function sameVersion(observed: string, expected: string): boolean {
  if (observed === expected) return true;
  const sha = /^[0-9a-f]{7,40}$/i;
  if (!sha.test(observed) || !sha.test(expected)) return false;
  const [a, b] = [observed.toLowerCase(), expected.toLowerCase()];
  return a.startsWith(b) || b.startsWith(a);
}

/** Why a request got no HTTP answer, in a few words. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `request failed (${cause.code})`;
  return `request failed (${cause?.message ?? (error instanceof Error ? error.message : String(error))})`;
}

/** HealthProvider over plain HTTP; every HTTP or network problem becomes `ok: false` with its reason. */
export class HttpHealth implements HealthProvider {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly latencyAttempts: number;
  private readonly lagProbe: () => LagProbe;

  constructor(options: HttpHealthOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => performance.now());
    this.latencyAttempts = Math.max(1, options.latencyAttempts ?? DEFAULT_LATENCY_ATTEMPTS);
    this.lagProbe = options.lagProbe ?? (() => timerDriftProbe(this.now));
  }

  async checkVersion(url: string, versionField: string, expected: string, timeoutMs: number): Promise<VersionCheck> {
    let status: number;
    let text: string;
    try {
      const response = await this.fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      return {
        ok: false,
        message: `GET ${url}: ${describeFailure(error, timeoutMs)}; expected ${versionField} ${expected}`,
      };
    }
    if (status !== 200) {
      return {
        ok: false,
        status,
        message: `GET ${url} answered ${status}, expected 200 with ${versionField} ${expected}`,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return {
        ok: false,
        status,
        message: `GET ${url} answered 200 but not JSON; expected ${versionField} ${expected}`,
      };
    }
    const value = readField(body, versionField);
    if (typeof value !== 'string' && typeof value !== 'number') {
      return {
        ok: false,
        status,
        message: `GET ${url} answered 200 without a ${versionField} field; expected ${expected}`,
      };
    }
    const observed = String(value);
    if (!sameVersion(observed, expected)) {
      return {
        ok: false,
        status,
        observed,
        message: `GET ${url} reports ${versionField} ${observed}, expected ${expected}`,
      };
    }
    return { ok: true, status, observed, message: `GET ${url} reports ${versionField} ${observed} as expected` };
  }

  /**
   * A smoke check whose only fault is latency is measured again, up to `latencyAttempts` times,
   * and fails only when every attempt is over the bound: one slow sample on a busy worker is not
   * evidence. The failure lists each attempt's latency and, when it was high, the event-loop lag
   * seen while measuring. When every attempt's overrun is within the lag seen during it, this
   * process's busy loop can account for all of it: the result is inconclusive, not a failure.
   */
  async smoke(check: SmokeCheck, timeoutMs: number): Promise<SmokeResult> {
    const limit = check.maxLatencyMs;
    const slow: { latencyMs: number; lag: Lag }[] = [];
    const worstLag = () => Math.max(0, ...slow.map((s) => s.lag.worst));
    const listed = () => slow.map((s) => `${s.latencyMs} ms`).join(', ');
    for (let attempt = 1; ; attempt++) {
      const probe = this.lagProbe();
      const result = await this.smokeOnce(check, timeoutMs);
      const lag = probe.stop();
      const overLimit = result.status !== undefined && result.status === (check.expectStatus ?? 200) && !result.ok;
      if (!overLimit || limit === undefined || result.latencyMs === undefined) {
        if (!result.ok || slow.length === 0) return result;
        return {
          ...result,
          message: `${check.name}: ${result.status} in ${result.latencyMs} ms (limit ${limit} ms; attempt ${attempt} of ${this.latencyAttempts}, after ${listed()} over the limit${lagNote(Math.max(lag.worst, worstLag()))})`,
        };
      }
      slow.push({ latencyMs: result.latencyMs, lag });
      if (attempt >= this.latencyAttempts) {
        const fastest = Math.min(...slow.map((s) => s.latencyMs));
        const attempts = slow.length > 1 ? ` on each of ${slow.length} attempts (${listed()})` : '';
        const explainedByLag = slow.every((s) => s.latencyMs - s.lag.total <= limit);
        return {
          ...result,
          latencyMs: fastest,
          ...(explainedByLag ? { inconclusive: true } : {}),
          message: `${check.name}: ${result.status} in ${fastest} ms, over the ${limit} ms limit${attempts}${lagNote(worstLag())}`,
        };
      }
    }
  }

  /** One request: its status and latency, judged against the check. */
  private async smokeOnce(check: SmokeCheck, timeoutMs: number): Promise<SmokeResult> {
    const { name } = check;
    const method = check.method ?? 'GET';
    const expectStatus = check.expectStatus ?? 200;
    const started = this.now();
    let status: number;
    try {
      const response = await this.fetch(check.url, {
        method,
        headers: check.headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : check.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      // The check is answered when the whole body has arrived, not just the headers.
      await response.arrayBuffer();
    } catch (error) {
      return { name, ok: false, message: `${name}: ${method} ${check.url}: ${describeFailure(error, timeoutMs)}` };
    }
    const latencyMs = Math.round(this.now() - started);
    const limit = check.maxLatencyMs;
    const timing = `${status} in ${latencyMs} ms`;
    if (status !== expectStatus) {
      return { name, ok: false, status, latencyMs, message: `${name}: ${timing}, expected ${expectStatus}` };
    }
    if (limit !== undefined && latencyMs > limit) {
      return { name, ok: false, status, latencyMs, message: `${name}: ${timing}, over the ${limit} ms limit` };
    }
    return {
      name,
      ok: true,
      status,
      latencyMs,
      message: `${name}: ${timing}${limit !== undefined ? ` (limit ${limit} ms)` : ''}`,
    };
  }
}

/** The event-loop lag, when high enough to have inflated what was timed. */
const lagNote = (lag: number): string =>
  lag >= HIGH_LAG_MS ? `; event-loop lag up to ${lag} ms while measuring, which counts in these latencies` : '';
