import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Replicator } from '../../lib/replicate';
import { words, wordsOf } from './words';
import { decodeEntities, isEntityEncoded } from '../../lib/replicate/sqltext';
import { parseStatement, safeSqlMode } from '../../lib/replicate/statement';
import { startMariaDb, PrivateMariaDb } from '../helpers/mariadb';
import { makeSite, perlSafeInput, Site } from './fixture';
import { runChild } from '../helpers/child';

async function queue(
  site: Site,
  target: number,
  sql: string,
  table: string | null = '',
): Promise<void> {
  await site.cc.query(
    "INSERT INTO tsync_queue (`sql`, target, utimestamp, operation, `table`, error, result) VALUES (?, ?, UNIX_TIMESTAMP(), '', ?, '', '')",
    [sql, target, table],
  );
}

async function rows(site: Site, target: number): Promise<{ id: string; error: string }[]> {
  const [r] = await site.cc.query(
    'SELECT id, error FROM tsync_queue WHERE target = ? ORDER BY id',
    [target],
  );
  return r as { id: string; error: string }[];
}

describe('metaconsole-replicate: tsync_queue source', () => {
  let db: PrivateMariaDb;
  let site: Site;

  before(async () => {
    db = await startMariaDb();
    site = await makeSite(db, [
      { db, name: 'node1' },
      { db, name: 'node2' },
    ]);
  });
  after(async () => {
    await site?.cc.end();
    for (const n of site?.nodes ?? []) await n.end();
    await db?.destroy();
  });

  it('reads single statements and refuses stacked ones', () => {
    assert.deepEqual(parseStatement("UPDATE `tgrupo` SET nombre = 'a;b' WHERE id_grupo = 1;"), {
      sql: "UPDATE `tgrupo` SET nombre = 'a;b' WHERE id_grupo = 1",
      verb: 'UPDATE',
      table: 'tgrupo',
    });
    assert.match(
      (
        parseStatement('DELETE FROM tgrupo WHERE id_grupo = 1; DROP TABLE tusuario') as {
          error: string;
        }
      ).error,
      /more than one statement/,
    );
    assert.match(
      (parseStatement('INSERT INTO other.tgrupo VALUES (1)') as { error: string }).error,
      /qualified/,
    );
    // Each also writes a table other than tgrupo: a parser that read only the first words took
    // these for writes of tgrupo alone.
    for (const sql of [
      "UPDATE tgrupo, tusuario SET tusuario.password = 'x'",
      "UPDATE tgrupo JOIN tusuario ON 1 = 1 SET tusuario.password = 'x'",
      'DELETE tgrupo, tusuario FROM tgrupo JOIN tusuario ON 1 = 1',
      'INSERT INTO tgrupo (nombre) SELECT password FROM tusuario',
      'UPDATE tgrupo SET nombre = (SELECT password FROM tusuario LIMIT 1)',
      "UPDATE tgrupo /*!, tusuario */ SET tusuario.password = 'x'",
      'UPDATE tgrupo SET nombre = pwn()',
      "UPDATE tgrupo SET nombre = LOAD_FILE('/etc/passwd')",
    ]) {
      const r = parseStatement(sql);
      assert.ok('error' in r, `${sql} must be refused, got ${JSON.stringify(r)}`);
    }
    assert.deepEqual(
      parseStatement("UPDATE tgrupo AS g SET g.nombre = CONCAT('a', 'b') WHERE g.id_grupo = 5"),
      {
        sql: "UPDATE tgrupo AS g SET g.nombre = CONCAT('a', 'b') WHERE g.id_grupo = 5",
        verb: 'UPDATE',
        table: 'tgrupo',
      },
    );
    assert.equal(
      (
        parseStatement("REPLACE INTO `tcategory` (`id`, `name`) VALUES (1, 'x')") as {
          verb: string;
        }
      ).verb,
      'REPLACE',
    );
    assert.match((parseStatement('SELECT 1') as { error: string }).error, /a SELECT statement/);
    // The grammar is MariaDB's to judge: the check leaves a malformed statement to the server,
    // which refuses it when the queue runs it (the item keeps the server's error).
    assert.equal(
      (parseStatement('UPDATE tgrupo SET nombre = = 1') as { table: string }).table,
      'tgrupo',
    );
    assert.equal(
      safeSqlMode('STRICT_TRANS_TABLES,ANSI_QUOTES,NO_BACKSLASH_ESCAPES,ANSI'),
      'STRICT_TRANS_TABLES',
    );
    const perl = perlSafeInput(
      'INSERT INTO tusuario (id_user, fullname) VALUES ("bob", "Bob&#x20;Ñ")',
    );
    assert.equal(isEntityEncoded(perl), true);
    assert.equal(
      decodeEntities(perl),
      'INSERT INTO tusuario (id_user, fullname) VALUES ("bob", "Bob&#x20;Ñ")',
    );
    assert.equal(isEntityEncoded("UPDATE ttag SET name = 'Mail&#x20;to' WHERE id_tag = 1"), false);
  });

  it('applies each node in order; a failing head blocks only its node and recovers', async () => {
    await queue(site, 1, "INSERT INTO `tgrupo` (`id_grupo`, `nombre`) VALUES (5, 'G5')", 'tgrupo');
    await queue(site, 2, "INSERT INTO `tgrupo` (`id_grupo`, `nombre`) VALUES (5, 'G5')", 'tgrupo');
    await queue(site, 1, "UPDATE tgrupo SET nombre = 'G5b' WHERE id_grupo = 5", 'tgrupo');
    // node2's next item needs a table node2 does not have yet.
    await site.nodes[1].query('RENAME TABLE ttag TO ttag_away');
    await queue(site, 2, "INSERT INTO ttag (id_tag, name) VALUES (7, 't7')", 'ttag');
    await queue(site, 2, "UPDATE tgrupo SET nombre = 'G5b' WHERE id_grupo = 5", 'tgrupo');
    await queue(site, 2, 'DELETE FROM tgrupo WHERE id_grupo = 5; DELETE FROM tusuario', 'tgrupo');

    let clock = 0;
    const rep = new Replicator(
      { cc: site.cc, useTables: false, backoffBaseMs: 1, wordNote: words },
      { now: () => clock },
    );
    const [r1, r2] = await rep.requestRound('test');
    assert.equal(r1.state, 'in sync');
    assert.deepEqual(r1.applied.tgrupo, { inserted: 1, updated: 1, deleted: 0 });
    assert.equal(r2.state, 'failing');
    assert.equal(r2.queue.pending, 3);
    assert.match(wordsOf(r2.errors)[0], /ttag/);
    const left = await rows(site, 2);
    assert.equal(left.length, 3);
    assert.match(left[0].error, /ttag/, 'the failure is kept in the head item');
    assert.equal(left[1].error, '', 'items behind the head are untouched');
    assert.deepEqual(rep.status(), { 'in sync': 1, behind: 0, degraded: 0, failing: 1 });

    await site.nodes[1].query('RENAME TABLE ttag_away TO ttag');
    clock += 20; // past the failing head's backoff
    const [, again] = await rep.requestRound('test');
    assert.equal(again.queue.pending, 1);
    assert.match(wordsOf(again.errors)[0], /refused: more than one statement/);
    const [last] = await rows(site, 2);
    assert.match(last.error, /more than one statement/);
    const [[g]] = (await site.nodes[1].query(
      'SELECT nombre FROM tgrupo WHERE id_grupo = 5',
    )) as unknown as [[{ nombre: string }]];
    assert.equal(g.nombre, 'G5b');
    await site.cc.query('DELETE FROM tsync_queue WHERE id = ?', [last.id]);
    await rep.close('test');
  });

  it('applies an item from the Perl producer, decoding its entities once', async () => {
    await queue(
      site,
      1,
      perlSafeInput(
        `INSERT INTO tperfil (id_perfil, name, agent_view) VALUES ("9", "Operator&#x20;&#40;Read&#41;", "1")`,
      ),
      'tperfil',
    );
    const rep = new Replicator({ cc: site.cc, useTables: false, instances: [1] });
    const [r] = await rep.requestRound('test');
    await rep.close('test');
    assert.deepEqual(r.errors, []);
    const [[p]] = (await site.nodes[0].query(
      'SELECT name FROM tperfil WHERE id_perfil = 9',
    )) as unknown as [[{ name: string }]];
    assert.equal(p.name, 'Operator&#x20;&#40;Read&#41;');
  });

  it('a kill between apply and dequeue does not apply twice', async () => {
    await site.nodes[0].query(
      "INSERT INTO tgrupo (id_grupo, nombre, max_agents) VALUES (30, 'counter', 0)",
    );
    await queue(
      site,
      1,
      'UPDATE tgrupo SET max_agents = max_agents + 1 WHERE id_grupo = 30',
      'tgrupo',
    );
    const child = await runChild(join(__dirname, 'queue-child.js'), {
      env: { ...process.env, REPLICATE_CC: JSON.stringify({ ...db.facts, database: 'cc' }) },
      stderr: 'pipe',
      ready: /APPLIED/,
      readyMs: 20_000,
    });
    await child.kill();
    assert.equal((await rows(site, 1)).length, 1, 'the item is still queued after the crash');
    const rep = new Replicator({ cc: site.cc, useTables: false, instances: [1] });
    const [r] = await rep.requestRound('test');
    await rep.close('test');
    assert.equal(r.queue.dequeued, 1);
    assert.equal(r.queue.pending, 0);
    const [[g]] = (await site.nodes[0].query(
      'SELECT max_agents FROM tgrupo WHERE id_grupo = 30',
    )) as unknown as [[{ max_agents: number }]];
    assert.equal(g.max_agents, 1);
  });
  it('refuses an item with no table or for a table not centrally managed, and stops a heavy statement, blocking only its node', async () => {
    await site.cc.query('DELETE FROM tsync_queue');
    await site.nodes[0].query(
      "INSERT INTO tgrupo (id_grupo, nombre) SELECT seq + 20000, CONCAT('bulk ', seq) FROM seq_1_to_400",
    );
    await site.nodes[0].query("INSERT INTO tconfig (token, `value`) VALUES ('MR', '69')");
    const rep = new Replicator({
      cc: site.cc,
      useTables: false,
      backoffBaseMs: 0,
      queueStatementTimeLimitMs: 1000,
      wordNote: words,
    });
    const heavy = `UPDATE tgrupo SET nombre = 'slow' WHERE SHA2(REPEAT(nombre, 1000000), 512) = 'never'`;
    const cases: { sql: string; table: string | null; why: RegExp }[] = [
      {
        sql: "UPDATE tgrupo SET nombre = 'A' WHERE id_grupo = 20001",
        table: '',
        why: /table column is empty/,
      },
      {
        sql: "UPDATE tgrupo SET nombre = 'B' WHERE id_grupo = 20001",
        table: null,
        why: /table column is empty/,
      },
      {
        sql: "UPDATE tconfig SET `value` = 'pwned' WHERE token = 'MR'",
        table: 'tconfig',
        why: /tconfig is not a centrally managed table/,
      },
      { sql: heavy, table: 'tgrupo', why: /max_statement_time/ },
    ];
    let n = 40;
    for (const c of cases) {
      await queue(site, 1, c.sql, c.table);
      // node2 keeps applying while node1 is blocked.
      await queue(site, 2, `INSERT INTO tcategory (id, name) VALUES (${n}, 'c${n}')`, 'tcategory');
      const started = Date.now();
      const [r1, r2] = await rep.requestRound('test');
      const ms = Date.now() - started;
      assert.equal(r1.state, 'failing', c.sql);
      assert.match(r1.queue.error ? words(r1.queue.error.error) : '', c.why);
      const [head] = await rows(site, 1);
      assert.match(head.error, c.why, 'the reason is written into the item');
      assert.deepEqual(r2.errors, []);
      assert.equal(r2.applied.tcategory?.inserted, 1, 'the other node is not held back');
      if (c.sql === heavy) assert.ok(ms < 15_000, `the heavy statement was stopped (${ms} ms)`);
      // Blocked until skipped.
      const [again] = await rep.requestRound('test');
      assert.equal(again.queue.pending, 1);
      await rep.skip(head.id);
      n += 1;
    }
    const [done] = await rep.requestRound('test');
    assert.equal(done.queue.pending, 0);
    await rep.close('test');
    const [[cfg]] = (await site.nodes[0].query(
      "SELECT `value` FROM tconfig WHERE token = 'MR'",
    )) as unknown as [[{ value: string }]];
    assert.equal(cfg.value, '69');
    const [[g]] = (await site.nodes[0].query(
      'SELECT nombre FROM tgrupo WHERE id_grupo = 20001',
    )) as unknown as [[{ nombre: string }]];
    assert.equal(g.nombre, 'bulk 1');
  });
});
