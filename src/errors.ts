/** Every error Switchyard raises on purpose has a code, so callers and logs can tell them apart. */
export type ErrorCode = 'config_invalid' | 'catalog_invalid' | 'provider_failed' | 'internal';

export interface ErrorContext {
  service?: string;
  version?: string;
  step?: string;
  deploymentId?: string;
}

export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** A retriable error may succeed if the same action is tried again later. */
  readonly retriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: ErrorContext; retriable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
    this.retriable = options.retriable ?? false;
  }
}

export class ConfigInvalid extends SwitchyardError {
  constructor(message: string) {
    super('config_invalid', message);
  }
}

export class CatalogInvalid extends SwitchyardError {
  constructor(readonly problems: string[]) {
    super('catalog_invalid', `services catalog is invalid:\n  ${problems.join('\n  ')}`);
  }
}

/** An environment's `kubeContext` is not a context of KUBECONFIG: the worker cannot start. */
export class KubeContextMissing extends SwitchyardError {
  constructor(
    readonly environment: string,
    readonly kubeContext: string,
    readonly available: readonly string[],
  ) {
    super(
      'config_invalid',
      `environment ${environment}: kubeContext "${kubeContext}" is not a context of KUBECONFIG` +
        ` (contexts: ${available.length > 0 ? available.join(', ') : 'none'})`,
    );
  }
}

/** A provider call failed (network, throttling, 5xx); usually worth another try. */
export class ProviderFailed extends SwitchyardError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext; retriable?: boolean } = {}) {
    super('provider_failed', message, { retriable: true, ...options });
  }
}

export const asSwitchyardError = (error: unknown): SwitchyardError => {
  if (error instanceof SwitchyardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SwitchyardError('internal', message, { cause: error, retriable: true });
};

/** One readable sentence for Slack: the message without stack or cause chain. */
export const describeError = (error: unknown): string =>
  asSwitchyardError(error).message.split('\n')[0] ?? 'unknown error';
