import type { DeploymentEvent } from '../domain/deployment.js';
import type { GateRun } from '../domain/gates.js';

/**
 * What makes two gate runs "the same" for the event log: the outcome and each reading's (and
 * the monitors') verdict, not the values. Consecutive runs with one signature are kept as one
 * event with a count and the first and last time (the store merges them in its write), so a
 * 30-second gate over a long bake is a handful of events; any change of verdict starts a new one.
 */
export function gateSignature(run: GateRun): string {
  const readings = run.readings.map((r) => `${r.name}=${r.outcome}`).join(',');
  const monitors = run.firingMonitors.map((m) => m.name).join(',');
  return `${run.outcome}|${readings}|${monitors}|${run.monitorError ? 'unreadable' : ''}`;
}

/** The event of one gate run; `count`/`firstAt` grow when the store merges it into the previous one. */
export function gateRunEvent(run: GateRun, at: number): DeploymentEvent {
  return {
    at,
    actor: 'switchyard',
    type: 'gate-run',
    detail: run.outcome,
    // signature, count and firstAt first and in this order: the store's merge rewrites them in place.
    data: {
      signature: gateSignature(run),
      count: 1,
      firstAt: at,
      lastAt: at,
      readings: run.readings,
      firingMonitors: run.firingMonitors,
    },
  };
}
