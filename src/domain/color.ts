/** The two environments of a blue-green pair. Rolling deployments use `main` for their one Deployment. */
export type Color = 'blue' | 'green';

export const otherColor = (color: Color): Color => (color === 'blue' ? 'green' : 'blue');

/** Percent of traffic per colour; the two always add up to 100. */
export interface Weights {
  blue: number;
  green: number;
}

export const weightsFor = (newColor: Color, newWeight: number): Weights =>
  newColor === 'blue' ? { blue: newWeight, green: 100 - newWeight } : { blue: 100 - newWeight, green: newWeight };

/** `blue 90% / green 10%` */
export const describeWeights = (w: Weights): string => `blue ${w.blue}% / green ${w.green}%`;

/** `10% on green`: the share of traffic one colour has. */
export const weightOn = (weight: number, color: Color): string => `${weight}% on ${color}`;

export const sameWeights = (a: Weights, b: Weights): boolean => a.blue === b.blue && a.green === b.green;

/** The colour holding all the traffic, or undefined while traffic is split. */
export const liveColorOf = (weights: Weights): Color | undefined =>
  weights.blue === 100 ? 'blue' : weights.green === 100 ? 'green' : undefined;
