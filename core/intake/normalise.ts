// Which monitoring system sent this, and what it says: the first alert source that
// recognises the body parses it into AlertSignals, or the body is refused with a
// message naming the field.
import { InvalidAlert } from '../errors.js';
import type { AlertSignal, AlertSource } from '../ports.js';
import type { HttpRefusal } from './request.js';

export function normalise(
  sources: AlertSource[],
  body: unknown,
): { ok: true; signals: AlertSignal[] } | { ok: false; refusal: HttpRefusal } {
  const source = sources.find((s) => s.matches(body));
  if (!source) {
    const names = sources.map((s) => s.name).join(', ');
    return {
      ok: false,
      refusal: { status: 422, error: `body: not a recognised alert format (expected one of: ${names})` },
    };
  }
  try {
    return { ok: true, signals: source.parse(body) };
  } catch (error) {
    if (error instanceof InvalidAlert) return { ok: false, refusal: { status: 422, error: error.message } };
    throw error;
  }
}
