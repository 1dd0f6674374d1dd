/**
 * `work`, or the error `late()` makes if `work` has not settled within `ms`. The work itself is
 * not stopped: what it yields later goes nowhere, or to a cache of the caller's.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
