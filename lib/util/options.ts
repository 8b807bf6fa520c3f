/**
 * What every engine's options module does the same way: the facts of an option it refuses, the
 * numeric defaults applied field by field, and the `instances` property. Each engine keeps its
 * own error class and code (`ERR_<ENGINE>_OPTION`); only the mechanism is here.
 */
import type { ErrorFacts } from './errors';
import { toInteger, toList } from './values';

/** Builds an engine's own option error from the name, the value refused and its bounds. */
export type RefuseOption = (name: string, value: unknown, min: number, max?: number) => Error;

/** A refused value as its facts show it: a number as such, anything else as JSON. */
export function shownValue(value: unknown): string | number {
  return typeof value === 'number' ? value : (JSON.stringify(value) ?? 'undefined');
}

/** The facts of a value out of bounds (`max` absent: no upper bound). */
export function optionFacts(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): ErrorFacts {
  return { name, value: shownValue(value), min, max };
}

/**
 * `defaults` with the numbers `given` sets (`undefined` = absent), for every key of `minimum`; a
 * value that is not a finite number or is below its minimum is refused. Other keys of `defaults`
 * are kept as they are.
 */
export function resolveNumbers<K extends string>(
  defaults: object,
  minimum: Readonly<Record<K, number>>,
  given: object,
  refuse: RefuseOption,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  const set = given as Record<string, unknown>;
  for (const key of Object.keys(minimum) as K[]) {
    if (set[key] !== undefined) out[key] = set[key];
    const got = out[key];
    if (typeof got !== 'number' || !Number.isFinite(got) || got < minimum[key]) {
      throw refuse(key, got, minimum[key]);
    }
  }
  return out;
}

/** The `instances` property (a list of Instance ids, whole numbers from 1); empty = all. */
export function instanceIds(value: unknown, refuse: RefuseOption): number[] {
  return toList(value).map((v) => {
    try {
      return toInteger(v, 0, 'instances', 1);
    } catch {
      throw refuse('instances', v, 1);
    }
  });
}
