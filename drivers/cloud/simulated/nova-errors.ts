// The simulated Nova's answers other than a plain 200: Nova's error bodies, and the
// 202/204 its actions answer with.
type Json = Record<string, unknown>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(`HTTP ${status}`);
  }
}

export const badRequest = (message: string) => new HttpError(400, { badRequest: { code: 400, message } });
export const conflict = (message: string) =>
  new HttpError(409, { conflictingRequest: { code: 409, message } });
export const notFound = (message: string) => new HttpError(404, { itemNotFound: { code: 404, message } });

/** A success answered with another status than 200 (os-migrateLive 202, confirmResize 204). */
export class NovaAnswer {
  constructor(
    readonly status: number,
    readonly body?: Json,
  ) {}
}

/** Nova's JSON-schema refusal of an action's body. */
export const invalidInput = (field: string, value: unknown, why: string) =>
  badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${why}`);
