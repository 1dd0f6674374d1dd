import { sameWeights, weightsFor } from '../domain/color.js';
import type { Deployment } from '../domain/deployment.js';
import type { StepResult } from '../domain/machine.js';
import { imageFor } from './image.js';
import { healthUrl, POLL_MS, trafficTarget, workloadRef, type StepEnv } from './step-runners.js';

export interface RollbackRun {
  result: StepResult;
  /** Lines for the rollback message: what was restored and what was verified. */
  evidence: string[];
}

/**
 * Restores the previous version. Blue-green and canary: all traffic back to the live
 * colour in one load balancer call, then the live /healthz must report the previous version.
 * Rolling: the previous image goes back and its rollout is followed. Safe to run again.
 */
export async function restorePrevious(d: Deployment, env: StepEnv): Promise<RollbackRun> {
  const target = trafficTarget(env.service);
  if (target && d.newColor && d.liveColor) {
    const wanted = weightsFor(d.newColor, 0);
    const { changed } = await env.providers.traffic.setWeights(target, wanted);
    const seen = await env.providers.traffic.readWeights(target);
    // As for a shift: restored only once the load balancer says so.
    if (!sameWeights(seen, wanted)) {
      return {
        result: {
          kind: 'wait',
          ms: POLL_MS,
          detail: `waiting for the load balancer to report ${d.liveColor} 100% (sees blue ${seen.blue} / green ${seen.green})`,
        },
        evidence: [],
      };
    }
    const evidence = [
      `*Traffic:* ${d.liveColor} ${seen[d.liveColor]}% · ${d.newColor} ${seen[d.newColor]}%${changed ? '' : ' (already restored)'}`,
    ];
    const url = healthUrl(env.service, d.liveColor);
    if (url && env.service.health && d.previousVersion) {
      const check = await env.providers.health.checkVersion(
        url,
        env.service.health.versionField,
        d.previousVersion,
        env.service.health.timeoutMs,
      );
      evidence.push(`*Live /healthz:* ${check.ok ? '✓ ' : '✗ '}${check.message}`);
    }
    return { result: { kind: 'done' }, evidence };
  }
  if (!target && (d.previousVersion || d.previousImage)) {
    const ref = workloadRef(env.service, undefined);
    // Rebuilt from the catalog and the validated previous version; a tampered record throws here.
    const previousImage = imageFor(env.service, d.previousVersion, 'previous version');
    // `kubectl rollout undo`: the whole previous pod template comes back, not just its image.
    await env.providers.workload.rollbackToImage(ref, previousImage);
    const status = await env.providers.workload.rolloutStatus(ref);
    if (status.phase === 'progressing')
      return { result: { kind: 'wait', ms: POLL_MS, detail: status.message }, evidence: [] };
    return {
      result: { kind: 'done' },
      evidence: [`*Workload:* ${ref.namespace}/${ref.deployment} back on ${previousImage}: ${status.message}`],
    };
  }
  return { result: { kind: 'done' }, evidence: ['*Traffic:* never left the previous version'] };
}
