/**
 * Pandora-shaped databases for agent-cache tests and its benchmark, on Pandora's real tables
 * (test/helpers/schema/agents.sql and agent-cache.sql): a Command Center with its registry and
 * cache tables, Instances with agents and secondary groups, and the check that the cache equals
 * the Instances (every column both tables have).
 */
import assert from 'node:assert/strict';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { register, type RegistryEntry } from '../events/fixtures/pandora';
import type { PrivateMariaDb } from '../helpers/mariadb';
import { applySchema } from '../helpers/schema';

/** Groups that exist on every side (the cache's secondary groups refer to the CC's tgrupo). */
export const GROUPS = [2, 3, 4, 5, 6, 7, 8, 9];

async function groups(c: Connection): Promise<void> {
  await c.query('INSERT INTO tgrupo (id_grupo, nombre) VALUES ?', [
    GROUPS.map((g) => [g, `Group&#x20;${g}`]),
  ]);
}

export async function createInstanceDb(db: PrivateMariaDb, name: string): Promise<void> {
  await db.freshDatabase(name);
  const c = await db.connect(name);
  try {
    await applySchema(c, 'objects', 'agents');
    await groups(c);
  } finally {
    await c.end();
  }
}

export async function createCacheCc(
  db: PrivateMariaDb,
  name: string,
  entries: RegistryEntry[],
): Promise<void> {
  await db.freshDatabase(name);
  const c = await db.connect(name);
  try {
    await applySchema(c, 'registry', 'objects', 'agent-cache');
    await groups(c);
    for (const e of entries) await register(c, e);
  } finally {
    await c.end();
  }
}

/** An agent's row as a test seeds it: texts the console stores (HTML entities), counters. */
export function agentValues(id: number, salt = 0): unknown[] {
  return [
    id,
    `agent&#x20;${id}`,
    `Agent&#x20;&lt;${id}&gt;${salt ? `&#x20;v${salt}` : ''}`,
    `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`,
    GROUPS[id % GROUPS.length],
    id % 3 === 0 ? null : `comment ñ ✓ ${id}`,
    '2026-12-07 06:00:00',
    id % 5,
    id % 7,
    (id % 11) + salt,
    id % 4 === 0 ? 1 : 0,
  ];
}

export const AGENT_COLUMNS =
  'id_agente, nombre, alias, direccion, id_grupo, comentarios, ultimo_contacto, normal_count, critical_count, total_count, disabled';

/** Inserts agents `first` .. `first + count - 1`, each with 0–2 secondary groups. */
export async function insertAgents(c: Connection, first: number, count: number): Promise<void> {
  for (let done = 0; done < count;) {
    const n = Math.min(2000, count - done);
    const rows: unknown[][] = [];
    const memberships: unknown[][] = [];
    for (let k = 0; k < n; k++) {
      const id = first + done + k;
      rows.push(agentValues(id));
      for (let g = 0; g < id % 3; g++) memberships.push([id, GROUPS[(id + g + 1) % GROUPS.length]]);
    }
    await c.query(`INSERT INTO tagente (${AGENT_COLUMNS}) VALUES ?`, [rows]);
    if (memberships.length > 0) {
      await c.query('INSERT INTO tagent_secondary_group (id_agent, id_group) VALUES ?', [
        memberships,
      ]);
    }
    done += n;
  }
}

async function columnsOf(c: Connection, table: string): Promise<string[]> {
  const [rows] = await c.query<RowDataPacket[]>(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  );
  return rows.map((r) => String(r.c));
}

/**
 * Asserts that the cache's rows of `setupId` are the Instance's agents: one row per agent, every
 * shared column equal, the same secondary groups. Returns the number of agents.
 */
export async function assertCacheEquals(
  instance: Connection,
  cc: Connection,
  setupId: number,
): Promise<number> {
  const mine = await columnsOf(instance, 'tagente');
  const theirs = new Set(await columnsOf(cc, 'tmetaconsole_agent'));
  const shared = mine.filter((c) => c !== 'id_agente' && theirs.has(c));
  assert.ok(shared.length >= 40, `shared columns: ${shared.length}`);
  const list = shared.map((c) => `\`${c}\``).join(', ');
  const [src] = await instance.query<RowDataPacket[]>(
    `SELECT id_agente AS id, ${list} FROM tagente ORDER BY id_agente`,
  );
  const [dst] = await cc.query<RowDataPacket[]>(
    `SELECT id_tagente AS id, ${list} FROM tmetaconsole_agent WHERE id_tmetaconsole_setup = ? ORDER BY id_tagente, id_agente`,
    [setupId],
  );
  assert.equal(dst.length, src.length, `instance ${setupId}: cache rows vs agents`);
  for (let i = 0; i < src.length; i++) {
    assert.deepEqual({ ...dst[i] }, { ...src[i] }, `instance ${setupId}, agent ${src[i].id}`);
  }
  const [sg] = await instance.query<RowDataPacket[]>(
    'SELECT id_agent AS a, id_group AS g FROM tagent_secondary_group ORDER BY id_agent, id_group',
  );
  const [cg] = await cc.query<RowDataPacket[]>(
    `SELECT s.id_tagente AS a, s.id_group AS g FROM tmetaconsole_agent_secondary_group s
       JOIN tmetaconsole_agent a ON a.id_agente = s.id_agent AND a.id_tagente = s.id_tagente
       WHERE s.id_tmetaconsole_setup = ? AND a.id_tmetaconsole_setup = ? ORDER BY s.id_tagente, s.id_group`,
    [setupId, setupId],
  );
  const [allCg] = await cc.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM tmetaconsole_agent_secondary_group WHERE id_tmetaconsole_setup = ?',
    [setupId],
  );
  assert.deepEqual(
    cg.map((r) => `${r.a}:${r.g}`),
    sg.map((r) => `${r.a}:${r.g}`),
    `instance ${setupId}: secondary groups`,
  );
  assert.equal(Number(allCg[0].n), sg.length, `instance ${setupId}: no stray secondary groups`);
  return src.length;
}

export async function count(c: Connection, sql: string, values: unknown[] = []): Promise<number> {
  const [rows] = await c.query<RowDataPacket[]>(sql, values);
  return Number(rows[0].n);
}
