// Step Functions' payload quota, enforced by the embedded engine where AWS enforces it, so
// a run that would fail on AWS fails here too (tests, the bench, `npm start`): 256 KiB of
// UTF-8 for a state's input and output, a Task's input after Parameters and its raw
// result. AWS fails the execution with States.DataLimitExceeded, a terminal error that no
// Retry or Catch (States.ALL included) can take.
import type { StateEvent } from './state-hooks.js';

/** 262,144 bytes: the execution input, every state's input and output, a Task's parameters and result. */
export const MAX_PAYLOAD_BYTES = 262_144;

/** Thrown where Step Functions would fail the execution; the engine neither retries nor catches it. */
export class DataLimitExceededError extends Error {
  // Read by aws-local-stepfunctions' Retry and Catch matching.
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(message: string) {
    super(message);
    this.name = 'States.DataLimitExceeded';
  }
}

export const payloadBytes = (value: unknown): number =>
  Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

/** Throws DataLimitExceededError when `value` serialises to more than the quota; `what` names where. */
export function checkPayload(what: string, value: unknown, limit = MAX_PAYLOAD_BYTES): void {
  const bytes = payloadBytes(value);
  if (bytes > limit) {
    throw new DataLimitExceededError(
      `${what} is ${bytes.toLocaleString('en')} bytes, over the ${limit.toLocaleString('en')}-byte limit of a Step Functions state`,
    );
  }
}

/** A state's input as it is entered, or its output as it exits (a StateHooks check). */
export function checkStatePayload(event: StateEvent): void {
  const { name } = event.state;
  if (event.type === 'StateEntered') checkPayload(`the input of ${name}`, event.state.input);
  else checkPayload(`the output of ${name}`, event.state.output);
}
