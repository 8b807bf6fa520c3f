/**
 * The package's own tables, the only DDL it ships: the files in lib/db/schema/ are the tables our
 * nodes create at run time when missing (event-pull's copy on the Command Center, the
 * replicator's identity and progress). Pandora's own tables are never created or altered.
 * Statements are split on a `;` that ends a line and run one by one, because pools never enable
 * multipleStatements.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Something that can run one statement: a mysql2 connection, pool or pool connection. */
export interface Queryable {
  query(sql: string): Promise<unknown>;
}

/** The statements of a DDL text, `--` comment lines removed. */
export function splitStatements(text: string): string[] {
  return text
    .split(/;\s*$/m)
    .map((s) =>
      s
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

/** The statements of one of the package's own schema files (`event-copy`, `replica-cc`, …). */
export function schemaStatements(name: string): string[] {
  return splitStatements(readFileSync(join(__dirname, 'schema', `${name}.sql`), 'utf8'));
}
