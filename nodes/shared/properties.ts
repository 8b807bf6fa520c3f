/**
 * Whole-number node properties refused in the runtime's language: lib/util/values judges the
 * value, the node's own catalogue words the refusal (its `errors.integer` key).
 */
import { toInteger } from '../../lib/util/values';

/** A node's catalogue look-up, its namespace already applied. */
export type NodeText = (key: string, vars: Record<string, string | number>) => string;

/** The property's value, its default when empty; throws the translated reason otherwise. */
export type IntegerProperty = (
  value: unknown,
  fallback: number,
  name: string,
  min: number,
  max: number,
) => number;

export function integerProperty(t: NodeText): IntegerProperty {
  return (value, fallback, name, min, max) => {
    try {
      return toInteger(value, fallback, name, min, max);
    } catch {
      throw new Error(
        t('errors.integer', {
          name,
          min,
          max: max === Number.MAX_SAFE_INTEGER ? '∞' : max,
          value: JSON.stringify(value),
        }),
      );
    }
  };
}
