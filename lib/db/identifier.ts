/**
 * The one place SQL identifiers (table and column names) are checked and quoted. Values always go
 * as `?` parameters; only names are pasted into SQL text, and only through quoteId. Names may
 * come from the package's own catalogue or from a server's information_schema (columns that a
 * later Pandora version adds), so quoting is MariaDB's own rule (backticks, a backtick inside
 * doubled) rather than a character whitelist; what MariaDB itself refuses is refused here.
 */

/** MariaDB's limit for table and column names. */
const MAX_LENGTH = 64;

/** Why `name` cannot be an identifier, or null when it can. */
export function identifierProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'an empty name';
  if (name.length > MAX_LENGTH) return `a name longer than ${MAX_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
  if (/\u0000/.test(name)) return 'a name holding a NUL character';
  if (/\s$/.test(name)) return 'a name ending in a space';
  return null;
}

/** `name` quoted for MariaDB (`a``b` for a`b); throws on a name MariaDB would refuse. */
export function quoteId(name: string): string {
  const problem = identifierProblem(name);
  if (problem) throw new Error(`not a valid SQL identifier (${problem}): ${JSON.stringify(name)}`);
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A column list: `a`, `b`, `c`. */
export function quoteList(names: readonly string[]): string {
  return names.map(quoteId).join(', ');
}
