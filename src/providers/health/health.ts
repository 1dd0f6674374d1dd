import type { SmokeCheck } from '../../runbook/catalog.js';

export interface VersionCheck {
  ok: boolean;
  /** HTTP status, absent when the request itself failed. */
  status?: number;
  /** The value of the version field found in the body. */
  observed?: string;
  /** One sentence: what was checked and what was found. */
  message: string;
}

export interface SmokeResult {
  name: string;
  ok: boolean;
  status?: number;
  latencyMs?: number;
  message: string;
  /**
   * Over the latency bound only by as much as this process's own event loop was late while
   * timing it: not evidence about the service. Measure again later rather than fail now.
   */
  inconclusive?: boolean;
}

/** Asks a running environment whether it is healthy and serves the expected version. */
export interface HealthProvider {
  checkVersion(url: string, versionField: string, expected: string, timeoutMs: number): Promise<VersionCheck>;
  smoke(check: SmokeCheck, timeoutMs: number): Promise<SmokeResult>;
}
