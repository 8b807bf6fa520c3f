/**
 * Instances for the instance-query benches: one database `<prefix>1` seeded with A agents (one
 * module each, an alert on every fourth), copied server-side (CREATE TABLE … LIKE, INSERT …
 * SELECT) into `<prefix>2` … `<prefix>N`, and a Command Center database per size whose
 * tmetaconsole_setup lists the first n of them. Copies never leave the server: 500,000 agents in
 * about a minute on this machine.
 */
import { applySchema } from '../test/helpers/schema';
import type { PrivateMariaDb } from '../test/helpers/mariadb';
import { createTables } from '../test/query/fixtures/pandora';

/** The tables the `agents` and `tactical` reads go through. */
const READ_TABLES = [
  'tgrupo',
  'tconfig_os',
  'tagente',
  'tagente_modulo',
  'talert_template_modules',
  'tagent_secondary_group',
];

/** Seeds `<prefix>1` with `agents` agents. */
async function seedFirst(db: PrivateMariaDb, name: string, agents: number): Promise<void> {
  await db.freshDatabase(name);
  const c = await db.connect(name);
  await createTables(c);
  await c.query(
    "INSERT INTO tgrupo (id_grupo, nombre) VALUES (2, 'Servers'), (3, 'Web&#x20;farm')",
  );
  await c.query("INSERT INTO tconfig_os (id_os, name) VALUES (1, 'Linux'), (9, 'Windows')");
  // Every counter mix the console draws: critical, warning, unknown, not initialised, normal.
  await c.query(
    `INSERT INTO tagente (id_agente, nombre, alias, id_grupo, id_os, direccion, ultimo_contacto,
       disabled, normal_count, warning_count, critical_count, unknown_count, notinit_count,
       total_count, fired_count)
     SELECT i, CONCAT('host-', i, '.example.net'), CONCAT('host&#x20;', i), IF(i % 2 = 0, 2, 3),
       IF(i % 3 = 0, 9, 1), CONCAT('10.', (i >> 16) & 255, '.', (i >> 8) & 255, '.', i & 255),
       '2026-12-01 08:00:00', IF(i % 97 = 0, 1, 0), n, w, c, u, z, n + w + c + u + z, c
     FROM (SELECT seq AS i, IF(seq % 50 = 0, 0, 8) AS n, IF(seq % 11 = 0, 2, 0) AS w,
       IF(seq % 17 = 0, 1, 0) AS c, IF(seq % 13 = 0, 1, 0) AS u, IF(seq % 50 = 0, 10, 0) AS z
       FROM seq_1_to_${Math.trunc(agents)}) AS s`,
  );
  await c.query(
    'INSERT INTO tagente_modulo (id_agente_modulo, id_agente, nombre, id_tipo_modulo, id_modulo) SELECT id_agente, id_agente, ?, 1, 1 FROM tagente',
    ['cpu'],
  );
  await c.query(
    'INSERT INTO talert_template_modules (id_agent_module, id_alert_template, times_fired) SELECT id_agente, 1, IF(critical_count > 0, 1, 0) FROM tagente WHERE id_agente % 4 = 0',
  );
  await c.end();
}

/** `<prefix>1` … `<prefix>instances`, each with `agents` agents. */
export async function seedInstances(
  db: PrivateMariaDb,
  prefix: string,
  instances: number,
  agents: number,
): Promise<void> {
  await seedFirst(db, `${prefix}1`, agents);
  const root = await db.connect();
  try {
    for (let n = 2; n <= instances; n++) {
      await db.freshDatabase(`${prefix}${n}`);
      for (const t of READ_TABLES) {
        await root.query(`CREATE TABLE ${prefix}${n}.${t} LIKE ${prefix}1.${t}`);
        await root.query(`INSERT INTO ${prefix}${n}.${t} SELECT * FROM ${prefix}1.${t}`);
      }
    }
  } finally {
    await root.end();
  }
}

/** A Command Center database `name` whose registry lists `<prefix>1` … `<prefix>instances`. */
export async function seedRegistry(
  db: PrivateMariaDb,
  name: string,
  prefix: string,
  instances: number,
): Promise<void> {
  await db.freshDatabase(name);
  const cc = await db.connect(name);
  try {
    await applySchema(cc, 'registry');
    const rows = Array.from({ length: instances }, (_, i) => [
      i + 1,
      `instance ${i + 1}`,
      db.host,
      String(db.port),
      `${prefix}${i + 1}`,
      db.user,
      db.password,
    ]);
    await cc.query(
      'INSERT INTO tmetaconsole_setup (id, server_name, dbhost, dbport, dbname, dbuser, dbpass) VALUES ?',
      [rows],
    );
  } finally {
    await cc.end();
  }
}
