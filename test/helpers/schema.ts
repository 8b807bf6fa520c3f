/**
 * Pandora's tables for tests, benchmarks and the demo: the files in test/helpers/schema/ hold the
 * tables as Pandora's pandoradb.sql defines them (registry, objects, events, the sync queue);
 * names not found there are the package's own tables, read from lib/db/schema/. Never shipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queryable, schemaStatements, splitStatements } from '../../lib/db/schema';

/** The source folder (this file runs compiled from dist/test/helpers/). */
const DIR = resolve(__dirname, '../../../test/helpers/schema');

export function testSchemaStatements(name: string): string[] {
  const file = join(DIR, `${name}.sql`);
  return existsSync(file) ? splitStatements(readFileSync(file, 'utf8')) : schemaStatements(name);
}

/** Runs every statement of the named schema files, in order. */
export async function applySchema(db: Queryable, ...names: string[]): Promise<void> {
  for (const name of names) {
    for (const statement of testSchemaStatements(name)) await db.query(statement);
  }
}
