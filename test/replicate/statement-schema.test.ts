/**
 * The queue check over Pandora's real schema: for every column of every table of pandoradb.sql,
 * an INSERT, an UPDATE and a DELETE in each form Pandora's producers write (the console's
 * backticked helpers, the Perl server's bare names with "%s" values, hand-written console SQL
 * with bare names) are generated and judged twice: by MariaDB (PREPARE on a database loaded with
 * that schema: it parses the text and resolves every name, running nothing) and by the check.
 * Every statement MariaDB would run is accepted by the check; every one MariaDB refuses is
 * refused, by the check or (its grammar being MariaDB's) by MariaDB when the queue runs it.
 *
 * Needs Pandora's source tree (PANDORA_SOURCE, else ../shared/peers/pandorafms beside the
 * repository); without it the test says it did not run and why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool, Pool, PoolConnection } from '../../lib/db/pool';
import { queueSql } from '../../lib/replicate/sqltext';
import { parseStatement, safeSqlMode } from '../../lib/replicate/statement';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { perlSafeInput } from './fixture';

const SOURCE = [
  process.env.PANDORA_SOURCE,
  resolve(__dirname, '../../../../shared/peers/pandorafms'),
]
  .filter((p): p is string => !!p)
  .find((p) => existsSync(join(p, 'pandora_console/pandoradb.sql')));
const SKIP = SOURCE
  ? false
  : 'no Pandora source tree: set PANDORA_SOURCE to a checkout of pandorafms/pandorafms (its pandora_console/pandoradb.sql)';
if (SKIP) console.log(`statement-schema: not run: ${SKIP}`);

interface Column {
  table: string;
  column: string;
  type: string;
  enumFirst: string | null;
}

/** A literal that fits the column's type (MariaDB's PREPARE does not check values; a run does). */
function literal(c: Column, quote: "'" | '"'): string {
  if (/int|decimal|float|double|bit|year/.test(c.type)) return '1';
  if (c.enumFirst !== null) return `${quote}${c.enumFirst}${quote}`;
  if (/datetime|timestamp/.test(c.type)) return `${quote}2026-01-01 00:00:00${quote}`;
  if (c.type === 'date') return `${quote}2026-01-01${quote}`;
  if (c.type === 'time') return `${quote}00:00:00${quote}`;
  if (/json/.test(c.type)) return `${quote}{}${quote}`;
  return `${quote}x${quote}`;
}

/** The statements Pandora's producers write for one column, by form. */
function forms(c: Column, key: string | null): Record<string, string[]> {
  const bt = (n: string): string => `\`${n}\``;
  const v = literal(c, "'");
  const where = key ?? c.column;
  return {
    // include/db/mysql.php: mysql_db_process_sql_insert / _update / _delete.
    console: [
      `INSERT INTO ${bt(c.table)} (${bt(c.column)}) VALUES (${v})`,
      `UPDATE ${bt(c.table)} SET ${bt(c.column)} = ${v} WHERE ${bt(where)} = 1`,
      `DELETE FROM ${bt(c.table)} WHERE ${bt(c.column)} = ${v}`,
      `DELETE FROM ${bt(c.table)} WHERE ${bt(c.column)} IS NULL`,
      `UPDATE ${bt(c.table)} SET ${bt(c.column)} = NULL WHERE ${bt(where)} IN (1,2) LIMIT 1`,
    ],
    // PandoraFMS/DB.pm: db_process_insert and the server's own statements, '?' made "%s".
    perl: [
      `INSERT INTO ${c.table} (${c.column}) VALUES ("1")`,
      `UPDATE ${c.table} SET ${c.column} = "1" WHERE ${where} = "1"`,
      `DELETE FROM ${c.table} WHERE ${c.column} = "1"`,
    ],
    // Hand-written console SQL: bare names, single-quoted text, bare numbers.
    handwritten: [
      `INSERT INTO ${c.table} (${c.column}) VALUES (${v})`,
      `UPDATE ${c.table} SET ${c.column} = ${v} WHERE ${where} = 1`,
      `DELETE FROM ${c.table} WHERE ${c.column} = ${v}`,
      `DELETE FROM ${c.table} WHERE ${c.column} != ${v} AND ${where} > 0`,
    ],
  };
}

async function loadSchema(db: PrivateMariaDb, database: string, file: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const child = spawn('mariadb', ['--no-defaults', `--socket=${db.socket}`, '-uroot', database], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`loading ${file}: ${err.slice(0, 500)}`)),
    );
    createReadStream(file).pipe(child.stdin);
  });
}

/** MariaDB's own verdict: null when it can prepare the text, else its error. */
async function mariadbVerdict(conn: PoolConnection, sql: string): Promise<string | null> {
  try {
    await conn.query('PREPARE pandora_sync_judge FROM ?', [sql]);
    await conn.query('DEALLOCATE PREPARE pandora_sync_judge');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('the queue check over every column of Pandora’s schema', { skip: SKIP }, () => {
  let db: PrivateMariaDb;
  let pool: Pool;

  before(async () => {
    db = await startMariaDb();
    await db.freshDatabase('pandora');
    await loadSchema(db, 'pandora', join(SOURCE as string, 'pandora_console/pandoradb.sql'));
    pool = createPool({ ...db.facts, database: 'pandora' });
  });
  after(async () => {
    await pool?.end();
    await db?.destroy();
  });

  it('accepts every statement MariaDB would run and refuses every one it would not', async () => {
    const [cols] = (await pool.query(
      `SELECT TABLE_NAME AS \`table\`, COLUMN_NAME AS \`column\`, DATA_TYPE AS type,
              IF(DATA_TYPE = 'enum', SUBSTRING_INDEX(SUBSTRING(COLUMN_TYPE, 7), '''', 1), NULL) AS enumFirst
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    )) as unknown as [Column[]];
    const [keys] = (await pool.query(
      `SELECT TABLE_NAME AS t, MIN(COLUMN_NAME) AS k FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' GROUP BY TABLE_NAME`,
    )) as unknown as [{ t: string; k: string }[]];
    const keyOf = new Map(keys.map((k) => [k.t, k.k]));
    const tables = new Set(cols.map((c) => c.table));
    const conn = await pool.getConnection();
    const figures = {
      tables: tables.size,
      columns: cols.length,
      statements: 0,
      mariadbRuns: 0,
      mariadbRefuses: 0,
      checkAccepts: 0,
      refusedByCheck: 0,
      refusedWhenRun: 0,
      byForm: {} as Record<string, { statements: number; mariadbRefuses: number }>,
    };
    const wrong: string[] = [];
    try {
      const [[m]] = (await conn.query('SELECT @@SESSION.sql_mode AS m')) as unknown as [
        [{ m: string }],
      ];
      await conn.query('SET SESSION sql_mode = ?', [safeSqlMode(m.m)]);
      for (const c of cols) {
        for (const [form, sqls] of Object.entries(forms(c, keyOf.get(c.table) ?? null))) {
          const f = (figures.byForm[form] ??= { statements: 0, mariadbRefuses: 0 });
          for (const sql of sqls) {
            figures.statements += 1;
            f.statements += 1;
            // The Perl producer stores its text HTML-entity encoded: the queue decodes it first.
            const text = form === 'perl' ? queueSql(perlSafeInput(sql)) : sql;
            if (text !== sql) wrong.push(`decoding changed ${sql} into ${text}`);
            const maria = await mariadbVerdict(conn, sql);
            const check = parseStatement(text);
            if ('error' in check) {
              if (maria === null) {
                wrong.push(`MariaDB runs it, the check refuses it: ${sql} (${check.error})`);
              } else figures.refusedByCheck += 1;
            } else {
              figures.checkAccepts += 1;
              if (check.table !== c.table.toLowerCase()) {
                wrong.push(`${sql}: the check says it writes ${check.table}`);
              }
            }
            if (maria === null) figures.mariadbRuns += 1;
            else {
              figures.mariadbRefuses += 1;
              f.mariadbRefuses += 1;
              if (!('error' in check)) {
                // Accepted by the check: the queue runs it, and MariaDB refuses it there.
                await conn.beginTransaction();
                try {
                  await conn.query(check.sql);
                  wrong.push(`MariaDB refused to prepare but ran: ${sql}`);
                } catch {
                  figures.refusedWhenRun += 1;
                } finally {
                  await conn.rollback();
                }
              }
            }
          }
        }
      }
    } finally {
      conn.release();
    }
    console.log(`queue check over pandoradb.sql: ${JSON.stringify(figures)}`);
    assert.deepEqual(wrong.slice(0, 40), []);
    assert.ok(figures.tables > 200 && figures.columns > 2000, 'the whole schema was read');
    assert.ok(figures.mariadbRefuses > 0, 'some generated statements use reserved words bare');
  });

  it('reads the statement of issue 23 that blocked a node', () => {
    const r = parseStatement(
      "INSERT INTO tpolicies (id, name, description, id_group, status) VALUES (7, 'x', '', 0, 0)",
    );
    assert.deepEqual(r, {
      sql: "INSERT INTO tpolicies (id, name, description, id_group, status) VALUES (7, 'x', '', 0, 0)",
      verb: 'INSERT',
      table: 'tpolicies',
    });
  });
});
