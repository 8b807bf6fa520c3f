/**
 * Hostile tsync_queue items. Whoever can write the Command Center's queue must not be able to
 * make an Instance run anything but one INSERT / UPDATE / DELETE / REPLACE of one table: no
 * second table written or read (multi-table UPDATE / DELETE, joins, sub-selects, INSERT …
 * SELECT), no second statement, no executable comment, no call of a routine or of a built-in that
 * reads files, sleeps or writes sequences, no other database. Each generated item goes through a
 * real replicator round against a real MariaDB Instance; it must be refused (its error kept in
 * the queue, the item left for an operator) and every table of the Instance must be unchanged.
 * Well-formed items interleaved with them must still apply, so the suite cannot pass by refusing
 * everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool, PoolConnection } from '../../lib/db/pool';
import { Replicator } from '../../lib/replicate';
import { words, wordsOf } from '../replicate/words';
import { queueSql } from '../../lib/replicate/sqltext';
import { parseStatement } from '../../lib/replicate/statement';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { makeSite, perlSafeInput, seedCc, Site } from '../replicate/fixture';
import { seedFromEnv, seeded } from './util';

/** A text column of each table the suite writes, so generated statements are valid SQL. */
const TEXT_COLUMN: Record<string, { key: string; col: string }> = {
  tgrupo: { key: 'id_grupo', col: 'nombre' },
  tusuario: { key: 'id_user', col: 'fullname' },
  tperfil: { key: 'id_perfil', col: 'name' },
  ttag: { key: 'id_tag', col: 'name' },
  talert_commands: { key: 'id', col: 'name' },
};
const PAIRS: [string, string][] = [
  ['tgrupo', 'tusuario'],
  ['ttag', 'tusuario'],
  ['tperfil', 'tgrupo'],
  ['talert_commands', 'tperfil'],
];

/** Statements that each try to do more than write one table; all must be refused. */
function hostileStatements(): string[] {
  const out: string[] = [];
  for (const [a, b] of PAIRS) {
    const ca = TEXT_COLUMN[a];
    const cb = TEXT_COLUMN[b];
    out.push(
      // Several tables written.
      `UPDATE ${a}, ${b} SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE \`${a}\`, \`${b}\` SET \`${b}\`.\`${cb.col}\` = 'pwned' WHERE 1`,
      `UPDATE ${a} AS x, ${b} AS y SET y.${cb.col} = 'pwned'`,
      `UPDATE ${a} JOIN ${b} ON 1 = 1 SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} INNER JOIN ${b} SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} LEFT JOIN ${b} ON 1 = 1 SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} STRAIGHT_JOIN ${b} SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} CROSS JOIN ${b} SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE (${a}, ${b}) SET ${b}.${cb.col} = 'pwned'`,
      `update ${a}\n,\t${b} set ${b}.${cb.col}='pwned'`,
      `UPDATE ${a}, ${b} SET ${a}.${ca.col} = 'x', ${b}.${cb.col} = 'pwned'`,
      `DELETE ${a}, ${b} FROM ${a} JOIN ${b} ON 1 = 1`,
      `DELETE ${b} FROM ${a} JOIN ${b} ON 1 = 1`,
      `DELETE ${b} FROM ${a}, ${b}`,
      `DELETE FROM ${b} USING ${a}, ${b}`,
      `DELETE FROM ${a}, ${b} USING ${a} JOIN ${b}`,
      `DELETE x, y FROM ${a} AS x JOIN ${b} AS y ON 1 = 1`,
      // Another table read into the one written.
      `INSERT INTO ${a} (${ca.col}) SELECT ${cb.col} FROM ${b}`,
      `INSERT INTO ${a} (${ca.col}) (SELECT ${cb.col} FROM ${b} LIMIT 1)`,
      `REPLACE INTO ${a} (${ca.col}) SELECT ${cb.col} FROM ${b}`,
      `INSERT INTO ${a} SET ${ca.col} = (SELECT ${cb.col} FROM ${b} LIMIT 1)`,
      `INSERT INTO ${a} (${ca.col}) VALUES ((SELECT ${cb.col} FROM ${b} LIMIT 1))`,
      `UPDATE ${a} SET ${ca.col} = (SELECT ${cb.col} FROM ${b} LIMIT 1)`,
      `UPDATE ${a} SET ${ca.col} = 'x' WHERE ${ca.key} IN (SELECT ${cb.key} FROM ${b})`,
      `UPDATE ${a} SET ${ca.col} = 'x' WHERE EXISTS (SELECT 1 FROM ${b} WHERE ${cb.col} LIKE 'a%')`,
      `DELETE FROM ${a} WHERE ${ca.key} IN (SELECT ${cb.key} FROM ${b})`,
      `DELETE FROM ${a} WHERE EXISTS (SELECT * FROM (SELECT 1 FROM ${b}) AS s)`,
      `WITH s AS (SELECT ${cb.col} FROM ${b}) UPDATE ${a} SET ${ca.col} = (SELECT * FROM s LIMIT 1)`,
      `INSERT INTO ${a} (${ca.col}) VALUES ('x') ON DUPLICATE KEY UPDATE ${ca.col} = (SELECT ${cb.col} FROM ${b} LIMIT 1)`,
      // More than one statement.
      `UPDATE ${a} SET ${ca.col} = 'x'; UPDATE ${b} SET ${cb.col} = 'pwned'`,
      `UPDATE ${a} SET ${ca.col} = 'a;b';DELETE FROM ${b}`,
      `DELETE FROM ${a} WHERE ${ca.key} = -1;\nDELETE FROM ${b}`,
      `DELETE FROM ${a} WHERE ${ca.key} = -1;/**/DELETE FROM ${b}`,
      `DELETE FROM ${a} WHERE ${ca.key} = -1 ;; DELETE FROM ${b} ;`,
      // Executable and plain comments hiding or revealing text.
      `UPDATE ${a} /*!, ${b} */ SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} /*M!100000 , ${b} */ SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} /*!50000 JOIN ${b} */ SET ${b}.${cb.col} = 'pwned'`,
      `/*!DELETE FROM ${b} WHERE 1 OR */ DELETE FROM ${a} WHERE ${ca.key} = -1`,
      `UPDATE ${a} SET ${ca.col} = 'x' /*!; DELETE FROM ${b} */`,
      `UPDATE ${a} SET ${ca.col} = 'x' WHERE ${ca.key} = -1 -- \n OR 1 = 1`,
      `UPDATE ${a} SET ${ca.col} = 'x' WHERE ${ca.key} = -1 # \n OR 1 = 1`,
      // A column of another table.
      `UPDATE ${a} SET ${b}.${cb.col} = 'pwned'`,
      `UPDATE ${a} SET ${ca.col} = ${b}.${cb.col}`,
      // Another database.
      `UPDATE cc.${a} SET ${ca.col} = 'pwned'`,
      `DELETE FROM \`cc\`.\`${a}\``,
      `INSERT INTO mysql.${a} (${ca.col}) VALUES ('x')`,
      `UPDATE ${a} SET ${ca.col} = (SELECT ${cb.col} FROM cc.${b} LIMIT 1)`,
      `UPDATE ${a} SET ${ca.col} = (SELECT User FROM mysql.user LIMIT 1)`,
      // Routines and dangerous built-ins.
      `UPDATE ${a} SET ${ca.col} = pwn()`,
      `UPDATE ${a} SET ${ca.col} = \`pwn\`()`,
      `INSERT INTO ${a} (${ca.col}) VALUES (pwn())`,
      `DELETE FROM ${a} WHERE ${ca.key} = pwn()`,
      `UPDATE ${a} SET ${ca.col} = cc.pwn()`,
      `UPDATE ${a} SET ${ca.col} = LOAD_FILE('/etc/passwd')`,
      `UPDATE ${a} SET ${ca.col} = SLEEP(2)`,
      `UPDATE ${a} SET ${ca.col} = BENCHMARK(1000, MD5('x'))`,
      `UPDATE ${a} SET ${ca.col} = GET_LOCK('x', 1)`,
      `UPDATE ${a} SET ${ca.col} = NEXTVAL(s1)`,
      `UPDATE ${a} SET ${ca.col} = SETVAL(s1, 100)`,
      `UPDATE ${a} SET ${ca.col} = SYS_EXEC('id')`,
    );
  }
  out.push(
    // Not a single-table write at all.
    'SELECT * FROM tusuario',
    "SELECT fullname FROM tusuario INTO OUTFILE '/tmp/pandora-sync-hostile'",
    'DROP TABLE tusuario',
    'TRUNCATE TABLE tusuario',
    'TRUNCATE tgrupo',
    'ALTER TABLE tusuario ADD COLUMN x INT',
    'CREATE TABLE pwned (x INT)',
    'RENAME TABLE tusuario TO tusuario_old',
    "GRANT ALL ON *.* TO 'x'@'%'",
    "SET PASSWORD = PASSWORD('x')",
    'SET @@session.sql_log_bin = 0',
    'SET FOREIGN_KEY_CHECKS = 0',
    'CALL pwn_proc()',
    'DO pwn()',
    "LOAD DATA INFILE '/etc/passwd' INTO TABLE tgrupo",
    "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE tgrupo",
    'LOCK TABLES tusuario WRITE',
    'FLUSH TABLES',
    'HANDLER tusuario OPEN',
    "PREPARE s FROM 'DELETE FROM tusuario'",
    'EXECUTE s',
    'BEGIN',
    'COMMIT',
    'XA START 0x1',
    'KILL 1',
    'SHUTDOWN',
    'INSTALL SONAME "ha_connect"',
    "CREATE FUNCTION f RETURNS STRING SONAME 'x.so'",
    '',
    ';',
    '   ',
    'UPDATE',
    'DELETE FROM',
    "UPDATE tgrupo SET nombre = 'unterminated",
    'UPDATE tgrupo SET nombre = "x" /* unterminated',
    "UPDATE tgrupo SET nombre = 'x\0'; DELETE FROM tusuario",
    'UPDATE tgrupo\0, tusuario SET tusuario.fullname = 1',
    'INSERT INTO tgrupo VALUES ' + '(1),'.repeat(20) + '(1); DELETE FROM tusuario',
  );
  return out;
}

/** Statements Pandora's consoles queue; each must apply. `$` is replaced by a fresh number. */
const GOOD = [
  "INSERT INTO `tgrupo` (`id_grupo`, `nombre`, `parent`) VALUES ($, 'Group $', 0)",
  "UPDATE `tgrupo` SET `nombre` = 'Group $ (renamed)' WHERE `id_grupo` = $",
  'INSERT INTO ttag (id_tag, name, description, url) VALUES ($, "tag$", "d&#x20;x", \'\')',
  "UPDATE tusuario SET fullname = CONCAT('Admin ', '$'), last_connect = UNIX_TIMESTAMP() WHERE id_user = 'admin'",
  "REPLACE INTO tcategory (id, name) VALUES ($, 'cat $')",
  "UPDATE `ttag` SET `description` = 'it''s \\'quoted\\'' WHERE `id_tag` = $ LIMIT 1",
  "INSERT INTO tcategory (id, name) VALUES ($, 'c') ON DUPLICATE KEY UPDATE name = VALUES(name)",
  'DELETE FROM ttag WHERE id_tag = $',
  'DELETE FROM tgrupo WHERE id_grupo IN ($)',
];

/** Rows of every table of the Instance but our bookkeeping, as one comparable string per table. */
async function fingerprint(db: Pool | PoolConnection): Promise<Map<string, string>> {
  const [tables] = (await db.query(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'tsync\\_replica\\_%' ORDER BY 1",
  )) as unknown as [{ t: string }[]];
  const out = new Map<string, string>();
  for (const { t } of tables) {
    const [rows] = await db.query(`SELECT * FROM \`${t}\``);
    out.set(t, JSON.stringify((rows as unknown[]).map((r) => JSON.stringify(r)).sort()));
  }
  return out;
}

function changedTables(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n));
}

describe('hostile tsync_queue items', () => {
  let db: PrivateMariaDb;
  let site: Site;
  let node: Pool;

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [{ db, name: 'node1' }]);
    node = site.nodes[0];
    await seedCc(site.cc);
    await seedCc(node);
    // A routine that writes another table, as a stored function an attacker would hope to call.
    await node.query(
      "CREATE FUNCTION pwn() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE tusuario SET fullname = 'pwned'; RETURN 1; END",
    );
    await node.query(
      "CREATE PROCEDURE pwn_proc() MODIFIES SQL DATA UPDATE tusuario SET fullname = 'pwned'",
    );
    await node.query('CREATE SEQUENCE s1');
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('refuses every item that writes or reads more than one table; good items still apply', async () => {
    const plain = hostileStatements();
    const inputs = [...plain, ...plain.filter((s) => s.trim()).map(perlSafeInput)];
    const rep = new Replicator({ cc: site.cc, useTables: false, backoffBaseMs: 0 });
    const figures = {
      tried: 0,
      refused: 0,
      appliedWrongly: 0,
      crashes: 0,
      good: 0,
      goodApplied: 0,
    };
    const wrong: string[] = [];
    let fresh = 1000;

    const runOne = async (sql: string): Promise<{ error?: string; changed: string[] }> => {
      const before = await fingerprint(node);
      // The table column names what the first words write, as a producer would fill it (an
      // empty one is refused before the statement is read).
      const named = /(?:INTO|UPDATE|FROM)\s+`?([A-Za-z0-9_]+)/i.exec(queueSql(sql));
      await site.cc.query(
        "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (?, 1, UNIX_TIMESTAMP(), '', ?, '', '')",
        [sql, named?.[1] ?? 'tgrupo'],
      );
      let error: string | undefined;
      try {
        const [r] = await rep.requestRound('test');
        error = r.queue.error
          ? words(r.queue.error.error)
          : r.errors.length
            ? wordsOf(r.errors).join('; ')
            : undefined;
      } catch (err) {
        figures.crashes += 1;
        error = `round threw: ${(err as Error).message}`;
      }
      // Whatever happened, the next input starts with an empty queue.
      await site.cc.query('DELETE FROM tsync_queue WHERE target = 1');
      return { error, changed: changedTables(before, await fingerprint(node)) };
    };

    for (const [i, sql] of inputs.entries()) {
      figures.tried += 1;
      if (process.env.HOSTILE_TRACE) console.log('TRACE', JSON.stringify(sql));
      const r = await runOne(sql);
      if (r.error !== undefined && r.changed.length === 0) figures.refused += 1;
      else {
        figures.appliedWrongly += 1;
        wrong.push(`${JSON.stringify(sql)} -> ${r.error ?? 'applied'}, changed [${r.changed}]`);
      }
      // Every tenth input, one statement of the kind Pandora queues: it must apply.
      if (i % 10 === 0) {
        const n = fresh++;
        for (const good of GOOD) {
          figures.good += 1;
          const g = await runOne(good.replaceAll('$', String(n)));
          if (g.error === undefined) figures.goodApplied += 1;
          else wrong.push(`good ${JSON.stringify(good)} refused: ${g.error}`);
        }
      }
    }
    await rep.close('test');
    console.log(`hostile queue figures: ${JSON.stringify(figures)}`);
    assert.deepEqual(wrong, []);
    assert.equal(figures.crashes, 0);
    assert.equal(figures.appliedWrongly, 0);
    assert.equal(figures.goodApplied, figures.good);
    const [[u]] = (await node.query(
      "SELECT fullname FROM tusuario WHERE id_user = 'admin'",
    )) as unknown as [[{ fullname: string }]];
    assert.notEqual(u.fullname, 'pwned');
  });
  it('mutated statements: whatever the check accepts writes its one table and nothing else', async () => {
    const seed = seedFromEnv();
    const rnd = seeded(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
    // Well-formed statements mutated a little reach the check's accepting side; hostile ones
    // mutated test that no mutation turns a refusal into a wrong acceptance.
    const good = GOOD.map((g) => g.replaceAll('$', '777'));
    const hostile = hostileStatements();
    const pieces = [
      ',',
      ' tusuario',
      ' JOIN tusuario ON 1=1',
      ';',
      '/*!',
      '*/',
      '#',
      '-- ',
      "'",
      '"',
      '`',
      '(SELECT 1 FROM tusuario)',
      '\\',
      '\n',
      ' WHERE 1=1',
      ' SET fullname = 1',
      ' pwn()',
      ' tusuario.fullname',
      ' 0x41',
      ' @a:=1',
      ' UNION SELECT 1',
      ' LIMIT 1',
      ' ORDER BY 1',
      ' tgrupo',
      ' AS t',
      ' t.nombre',
      '()',
      ' NOW()',
      " 'x'",
      ' = ',
      ' IN (1,2)',
      ' FROM',
    ];
    const mutate = (text: string): string => {
      let t = text;
      for (let n = 1 + Math.floor(rnd() * 2); n > 0; n--) {
        const at = Math.floor(rnd() * (t.length + 1));
        const r = rnd();
        if (r < 0.55) t = t.slice(0, at) + pick(pieces) + t.slice(at);
        else if (r < 0.8) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 12));
        else if (r < 0.9) t = t.slice(0, at) + t.slice(at, at + 15) + t.slice(at);
        else t = t.slice(0, at) + t.slice(at).toUpperCase();
      }
      return t;
    };
    const CASES = Number(process.env.FAULT_CASES) || 3000;
    const figures = {
      tried: 0,
      accepted: 0,
      refused: 0,
      ranOnMariaDb: 0,
      appliedWrongly: 0,
      crashes: 0,
    };
    const wrong: string[] = [];
    // A write may reach other tables only through the foreign keys Pandora declares (a cascade,
    // SET NULL): those are the written table's, not the statement's doing.
    const [fks] = (await node.query(
      'SELECT TABLE_NAME AS c, REFERENCED_TABLE_NAME AS p FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL',
    )) as unknown as [{ c: string; p: string }[]];
    const reach = (table: string): Set<string> => {
      const out = new Set<string>([table]);
      for (let grew = true; grew;) {
        grew = false;
        for (const fk of fks) {
          if (out.has(fk.p.toLowerCase()) && !out.has(fk.c.toLowerCase())) {
            out.add(fk.c.toLowerCase());
            grew = true;
          }
        }
      }
      return out;
    };
    const conn = await node.getConnection();
    try {
      for (let i = 0; i < CASES; i++) {
        const text = mutate(rnd() < 0.6 ? pick(good) : pick(hostile));
        figures.tried += 1;
        let parsed: ReturnType<typeof parseStatement>;
        try {
          parsed = parseStatement(text);
        } catch (err) {
          figures.crashes += 1;
          wrong.push(`check threw on ${JSON.stringify(text)}: ${(err as Error).message}`);
          continue;
        }
        if ('error' in parsed) {
          figures.refused += 1;
          continue;
        }
        figures.accepted += 1;
        // Run what was accepted, in a transaction rolled back after: only its table may change.
        const before = await fingerprint(conn);
        await conn.beginTransaction();
        try {
          await conn.query({ sql: parsed.sql, timeout: 5000 });
          figures.ranOnMariaDb += 1;
        } catch {
          // MariaDB refused it (a mutated statement is often nonsense): nothing was written.
        }
        const allowed = reach(parsed.table);
        const changed = changedTables(before, await fingerprint(conn)).filter(
          (t) => !allowed.has(t.toLowerCase()),
        );
        await conn.rollback();
        if (changed.length > 0) {
          figures.appliedWrongly += 1;
          wrong.push(`${JSON.stringify(text)} accepted as ${parsed.table} changed [${changed}]`);
        }
      }
    } finally {
      conn.release();
    }
    console.log(`hostile queue mutation figures (seed ${seed}): ${JSON.stringify(figures)}`);
    assert.deepEqual(wrong, []);
    assert.ok(figures.accepted > 0 && figures.refused > 0, 'the mutations reach both outcomes');
  });
});
