/** A Command Center and its Instances as databases of private MariaDB servers, for the tests. */
import { quoteId, quoteList } from '../../lib/db/identifier';
import { createPool, Pool } from '../../lib/db/pool';
import { applySchema } from '../helpers/schema';
import { tableColumns } from '../../lib/replicate/schema-info';
import { keySql, TABLES } from '../../lib/replicate/tables';
import { PrivateMariaDb } from '../helpers/mariadb';

export interface Site {
  cc: Pool;
  nodes: Pool[];
}

export interface NodePlace {
  db: PrivateMariaDb;
  name: string;
  unified?: boolean;
}

/** Fresh `cc` database on `ccDb` and one database per node, registered as ids 1, 2, ... */
export async function makeSite(
  ccDb: PrivateMariaDb,
  nodes: NodePlace[],
  ccName = 'cc',
): Promise<Site> {
  await ccDb.freshDatabase(ccName);
  const cc = createPool({ ...ccDb.facts, database: ccName });
  await applySchema(cc, 'registry', 'objects', 'sync-queue');
  const pools: Pool[] = [];
  for (const [i, n] of nodes.entries()) {
    await n.db.freshDatabase(n.name);
    const p = createPool({ ...n.db.facts, database: n.name }, { connectTimeoutMs: 2000 });
    await applySchema(p, 'objects');
    pools.push(p);
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass, disabled, unified) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)',
      [
        i + 1,
        n.name,
        '127.0.0.1',
        String(n.db.port),
        n.name,
        'root',
        '',
        n.unified === false ? 0 : 1,
      ],
    );
  }
  return { cc, nodes: pools };
}

/**
 * Every synchronized table's rows (the columns both `db` and the schema have, less node-local
 * state), ordered by key, as comparable JSON.
 */
export async function dump(
  db: Pool,
  tables = TABLES.map((t) => t.table),
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES.filter((d) => tables.includes(d.table))) {
    const skip = new Set([...(t.local ?? []), ...(t.optionalRefs ?? []).map((r) => r.column)]);
    const use = (await tableColumns(db, t.table)).filter((c) => !skip.has(c));
    if (use.length === 0) continue;
    const [rows] = await db.query(
      `SELECT ${quoteList(use)} FROM ${quoteId(t.table)} ORDER BY ${keySql(t)}`,
    );
    out[t.table] = JSON.stringify(rows);
  }
  return out;
}

/** One row of every kind on the CC, ids chosen so that references hold. */
export async function seedCc(cc: Pool): Promise<void> {
  await cc.query(
    "INSERT INTO tgrupo (id_grupo, nombre, parent) VALUES (10, 'Servers', 0), (11, 'Web', 10), (12, 'DB', 11)",
  );
  await cc.query(
    "INSERT INTO ttag (id_tag, name, description, url) VALUES (1, 'critical', 'd', '')",
  );
  await cc.query("INSERT INTO tcategory (id, name) VALUES (1, 'Networking')");
  await cc.query(
    "INSERT INTO tperfil (id_perfil, name, agent_view, event_view) VALUES (5, 'Pandora&#x20;Administrator', 1, 1)",
  );
  await cc.query("INSERT INTO tevent_filter (id_filter, id_name) VALUES (3, 'mine')");
  await cc.query(
    "INSERT INTO tusuario (id_user, fullname, firstname, lastname, middlename, password, id_filter) VALUES ('admin', 'Admin', 'A', 'B', '', '$2y$10$abcdefghijklmnopqrstuu', 3)",
  );
  await cc.query(
    "INSERT INTO tusuario_perfil (id_up, id_usuario, id_perfil, id_grupo, tags) VALUES (1, 'admin', 5, 0, '1')",
  );
  await cc.query(
    "INSERT INTO talert_commands (id, name, command, internal) VALUES (1, 'eMail', 'Internal type', 1), (2, 'Mail&#x20;to&#x20;Admin', 'sendmail _field1_', 0)",
  );
  await cc.query(
    "INSERT INTO talert_actions (id, name, id_alert_command, field1) VALUES (1, 'Mail to admin', 2, 'root@localhost')",
  );
  await cc.query(
    "INSERT INTO talert_templates (id, name, id_alert_action, type, max_value, time_from) VALUES (1, 'Critical condition', 1, 'critical', 1.5, '08:30:00')",
  );
}

/** What Pandora's Perl safe_input makes of a statement (the Perl producer stores this). */
export function perlSafeInput(sql: string): string {
  let out = '';
  for (const b of Buffer.from(sql, 'utf8')) {
    const c = String.fromCharCode(b);
    if (c === '&') out += '&amp;';
    else if (c === '"') out += '&quot;';
    else if (c === "'") out += '&#039;';
    else if (c === '(') out += '&#40;';
    else if (c === ')') out += '&#41;';
    else if (c === '\\') out += '&#92;';
    else if (b <= 32 || b >= 128) out += `&#x${b.toString(16)};`;
    else out += c;
  }
  return out;
}
