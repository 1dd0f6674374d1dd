/** A benchmark could not be measured: what went wrong, with what it was doing. */
export class BenchFailed extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'BenchFailed';
  }
}
