/** What every measurement is given by `bench/run.ts`. */
export interface BenchContext {
  redisUrl: string;
  /** A small smoke run (`--quick` / BENCH_QUICK=1): fewer repetitions, smaller fleets. */
  quick: boolean;
  /** Services deploying at once in the throughput and memory measurements (200; 20 when quick). */
  fleetSize: number;
  /** Switchyard's processes write V8 CPU profiles here when set (`--cpu-prof` / BENCH_CPU_PROF=1). */
  cpuProfDir?: string;
  log(line: string): void;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A uniformly random delay in [0, maxMs), to sample every phase of a periodic tick. */
export const jitter = (maxMs: number): Promise<void> => sleep(Math.random() * maxMs);
