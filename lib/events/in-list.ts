/** Bounded lists for SQL: IN lists and multi-row statements. */

/**
 * Most values in one IN list. MariaDB turns an IN list of 1000 values or more
 * (in_predicate_conversion_threshold) into a join with a derived table, which it may answer by
 * scanning the whole table instead of looking each value up in the index.
 */
export const IN_LIST_MAX = 500;

/** Splits a list into slices of at most `size` (IN lists and multi-row statements stay bounded). */
export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
