import { expect } from 'vitest';
import { ProviderFailed } from '../../src/errors.js';

/** The ProviderFailed a promise rejects with, so its fields can be asserted on. */
export const rejection = async (promise: Promise<unknown>): Promise<ProviderFailed> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderFailed);
  return error as ProviderFailed;
};
