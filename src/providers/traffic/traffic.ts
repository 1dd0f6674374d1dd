import type { Weights } from '../../domain/color.js';

/** Where a service's blue/green weights live on the load balancer. */
export interface TrafficTarget {
  listenerArn: string;
  /** When set, the weights live on this listener rule instead of the listener's default action. */
  ruleArn?: string;
  targetGroups: { blue: string; green: string };
}

/** Moves traffic between the two colours of a service. */
export interface TrafficProvider {
  /** The weights as the load balancer holds them now, as percentages. */
  readWeights(target: TrafficTarget): Promise<Weights>;
  /**
   * Sets both weights in one call. Idempotent: when the load balancer already holds these
   * weights no change is sent and `changed` is false.
   */
  setWeights(target: TrafficTarget, weights: Weights): Promise<{ changed: boolean }>;
}
