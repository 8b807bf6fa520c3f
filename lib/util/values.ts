/**
 * Values as flows carry them: the editor saves strings, hand-written flows carry numbers and
 * booleans. Every numeric property accepts a number or a numeric string, every boolean
 * true/false or "true"/"false", and an empty value means the default; anything else is an error
 * naming the property.
 */

/** A number from a number or numeric string; the default when empty; an error when not numeric. */
export function toNumber(value: unknown, fallback: number, name = 'value'): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n))
    throw new TypeError(`${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** An integer within [min, max], with the same input rules as toNumber. */
export function toInteger(
  value: unknown,
  fallback: number,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = toNumber(value, fallback, name);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * A boolean from true/false or "true"/"false" (also 1/0, "1"/"0", "on"/"off", "yes"/"no"); the
 * default when empty; an error for anything else, as for numbers: a typo must not quietly turn
 * into the default.
 */
export function toBool(value: unknown, fallback: boolean, name = 'value'): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const s = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : '';
  const lower = s.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === 'on' || lower === 'yes') return true;
  if (lower === 'false' || lower === '0' || lower === 'off' || lower === 'no') return false;
  throw new TypeError(`${name} must be true or false, got ${describe(value)}`);
}

/** A value as an error message shows it, without running a crafted object's toString. */
function describe(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
  return `a value of type ${Array.isArray(value) ? 'array' : typeof value}`;
}

/** A list from a comma (or whitespace) separated string or an array; empty means []. */
export function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(/[,\s]+/);
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A trimmed string, or the default when empty. */
export function toText(value: unknown, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  const s = String(value).trim();
  return s === '' ? fallback : s;
}
