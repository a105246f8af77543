import { expect } from 'vitest';
import { MtsError } from '../../src/mts/errors.js';

/** The MtsError a promise rejects with (fails the test if it resolves). */
export async function failure(p: Promise<unknown>): Promise<MtsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MtsError);
    return e as MtsError;
  }
  throw new Error('expected the call to fail');
}
