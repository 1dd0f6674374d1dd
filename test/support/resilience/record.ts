import type { RunnerTestCase } from 'vitest';

/** One point of the resilience table: a fault injected at one place, and how the deployment came out. */
export interface ResilienceRow {
  /** The table's row: `SIGKILL worker · blue-green`, `ALB Throttling`, … */
  fault: string;
  point: string;
  /** The deployment's final phase. */
  outcome: string;
  lost: string[];
  duplicated: string[];
  untold: string[];
  /** The kill landed while a request of the step was waiting for its answer. */
  midCall?: boolean;
  /** Kill → another worker took the job; only for jobs that were running (not waiting) when killed. */
  resumeMs?: number;
  /** Something measured on the way, printed under the table. */
  note?: string;
}

declare module 'vitest' {
  interface TaskMeta {
    resilience?: ResilienceRow[];
  }
}

/** Attaches a row to the running test, for the resilience reporter. */
export function record(task: RunnerTestCase, row: ResilienceRow): void {
  task.meta.resilience = [...(task.meta.resilience ?? []), row];
}

/** One line per problem, for an assertion message. */
export const problems = (row: ResilienceRow): string[] => [
  ...row.lost.map((p) => `lost: ${p}`),
  ...row.duplicated.map((p) => `duplicated: ${p}`),
  ...row.untold.map((p) => `untold: ${p}`),
];
