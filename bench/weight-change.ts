import type { Elbv2StandIn } from '../sandbox/elbv2.js';
import { BenchFailed } from './bench-error.js';
import { sleep } from './context.js';

export interface WeightChange {
  /** When the ELBv2 stand-in received the ModifyListener (ms since epoch, before any injected latency). */
  at: number;
  /** Other calls about the same listener received before it (Describe round trips on the way). */
  callsBefore: number;
}

/**
 * The first ModifyListener of `listenerArn` the ELBv2 stand-in received at or after `since`
 * (ms since epoch). Both clocks are this process's.
 */
export async function weightChangeArrival(
  elbv2: Elbv2StandIn,
  listenerArn: string,
  since: number,
  timeoutMs: number,
): Promise<WeightChange> {
  const deadline = Date.now() + timeoutMs;
  let scanned = 0;
  let callsBefore = 0;
  for (;;) {
    for (; scanned < elbv2.requests.length; scanned += 1) {
      const req = elbv2.requests[scanned];
      if (!req || req.at < since) continue;
      const params = new URLSearchParams(req.body);
      if (![...params.values()].includes(listenerArn)) continue;
      if (params.get('Action') === 'ModifyListener') return { at: req.at, callsBefore };
      callsBefore += 1;
    }
    if (Date.now() > deadline)
      throw new BenchFailed(`the load balancer received no weight change for ${listenerArn} within ${timeoutMs} ms`);
    await sleep(2);
  }
}
