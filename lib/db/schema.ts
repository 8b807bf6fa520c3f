/**
 * Applies the package's DDL files (lib/db/schema/*.sql). Statements are split on a `;` that ends a
 * line and run one by one, because pools never enable multipleStatements.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Something that can run one statement: a mysql2 connection, pool or pool connection. */
export interface Queryable {
  query(sql: string): Promise<unknown>;
}

/** The statements of one schema file, comments removed. */
export function schemaStatements(name: string): string[] {
  const text = readFileSync(join(__dirname, 'schema', `${name}.sql`), 'utf8');
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

/** Runs every statement of the named schema files, in order. */
export async function applySchema(db: Queryable, ...names: string[]): Promise<void> {
  for (const name of names) {
    for (const statement of schemaStatements(name)) await db.query(statement);
  }
}
