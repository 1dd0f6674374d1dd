/**
 * How long to wait before try `attempt + 1` (counting from 0): `baseMs` doubling each try,
 * scaled by 0.5 to 1.5 with `random` so that callers who failed together do not retry together,
 * and at most `maxMs`.
 */
export const backoffMs = (attempt: number, baseMs: number, random: () => number, maxMs = Infinity): number =>
  Math.round(Math.min(maxMs, baseMs * 2 ** attempt * (0.5 + random())));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
