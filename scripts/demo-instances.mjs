// The demo's two Instances as a Pandora server would keep them: agents with their module counters
// (tagente), modules (tagente_modulo) with their states (tagente_estado), an alert on every
// cpu_load module (talert_template_modules), and a simulator that every few seconds moves one
// module to another state the way pandora_server does: the state row, the alert fired or
// recovered, the agent's counters recomputed, its last contact, and the event that tells it.
// That is what the Command Center's views (instance-query's tactical view, event-pull,
// agent-cache) see change. Used by scripts/demo.mjs.

/** Module states as tagente_estado.estado holds them, and the event each change writes. */
const STATES = {
  normal: { estado: 0, event: 'going_down_normal', criticity: 2, word: 'NORMAL' },
  critical: { estado: 1, event: 'going_up_critical', criticity: 4, word: 'CRITICAL' },
  warning: { estado: 2, event: 'going_up_warning', criticity: 3, word: 'WARNING' },
  unknown: { estado: 3, event: 'going_unknown', criticity: 1, word: 'UNKNOWN' },
};
/** A module that gets worse goes to one of these (warning most often). */
const WORSE = ['warning', 'warning', 'warning', 'critical', 'critical', 'unknown'];
/** How often a move recovers a module in trouble rather than troubling a normal one. */
const RECOVER = 0.6;

/** Agents of each Instance (by database name): id, name, group. */
const AGENTS = {
  pandora_node1: [
    [1, 'web-01', 12],
    [2, 'db-01', 10],
    [3, 'fw-edge', 11],
    [4, 'web-02', 12],
  ],
  pandora_node2: [
    [1, 'web-01', 12],
    [2, 'db-01', 10],
    [3, 'mail-01', 10],
  ],
};
const MODULES = ['cpu_load', 'memory_free', 'disk_root'];
/** The alert template every cpu_load module gets (the Command Center's, replicated). */
const TEMPLATE = 1;

/** Recomputes an agent's module and alert counters as pandora_update_agent_module_count does. */
async function recount(c, agent) {
  const byState = (estados) =>
    `(SELECT COUNT(*) FROM tagente_estado e JOIN tagente_modulo m ON m.id_agente_modulo = e.id_agente_modulo
      WHERE e.id_agente = a.id_agente AND m.disabled = 0 AND e.estado IN (${estados}))`;
  await c.query(
    `UPDATE tagente a SET
       normal_count = ${byState('0')}, critical_count = ${byState('1')},
       warning_count = ${byState('2')}, unknown_count = ${byState('3')},
       notinit_count = ${byState('4, 5')},
       total_count = (SELECT COUNT(*) FROM tagente_modulo m WHERE m.id_agente = a.id_agente AND m.disabled = 0),
       fired_count = (SELECT COUNT(*) FROM talert_template_modules t
         JOIN tagente_modulo m ON m.id_agente_modulo = t.id_agent_module
         WHERE m.id_agente = a.id_agente AND t.times_fired > 0 AND t.disabled = 0),
       ultimo_contacto = NOW()
     WHERE a.id_agente = ?`,
    [agent],
  );
}

/**
 * Seeds one Instance's agents, modules, states and alerts in `c` (its tables already made).
 * Returns the modules the simulator moves: {id, agent, name, group, state, alert}.
 */
export async function seedInstance(c, dbName) {
  const modules = [];
  const now = Math.floor(Date.now() / 1000);
  // The alert template comes from the Command Center with the first replication; the rows that
  // use it may exist before it does, as on an Instance that joined a Command Center later.
  await c.query('SET FOREIGN_KEY_CHECKS = 0');
  for (const [agent, name, group] of AGENTS[dbName]) {
    await c.query(
      'INSERT INTO tagente (id_agente, nombre, alias, id_grupo, id_os, direccion, os_version, agent_version, ultimo_contacto) VALUES (?, ?, ?, ?, 1, ?, ?, ?, NOW())',
      [agent, name, name, group, `10.0.${agent}.1`, 'Debian 12', '7.0NG.777'],
    );
    for (const [i, module] of MODULES.entries()) {
      const id = agent * 10 + i + 1;
      // Mostly normal; each Instance's last agent has a module still waiting for its first data.
      const state = agent === AGENTS[dbName].length && i === 2 ? 'notinit' : 'normal';
      await c.query(
        'INSERT INTO tagente_modulo (id_agente_modulo, id_agente, id_tipo_modulo, nombre) VALUES (?, ?, 1, ?)',
        [id, agent, module],
      );
      await c.query(
        'INSERT INTO tagente_estado (id_agente_modulo, id_agente, estado, known_status, datos, timestamp, utimestamp, last_status_change) VALUES (?, ?, ?, ?, ?, NOW(), ?, ?)',
        [id, agent, state === 'notinit' ? 4 : 0, state === 'notinit' ? 4 : 0, '0', now, now],
      );
      const alert = module === 'cpu_load';
      if (alert) {
        await c.query(
          'INSERT INTO talert_template_modules (id, id_agent_module, id_alert_template) VALUES (?, ?, ?)',
          [id, id, TEMPLATE],
        );
      }
      modules.push({ id, agent, name: module, agentName: name, group, state, alert });
    }
    await recount(c, agent);
  }
  // web-01 is also in "Network & Links": the cache copies secondary groups too.
  await c.query('INSERT INTO tagent_secondary_group (id_agent, id_group) VALUES (1, 11)');
  await c.query('SET FOREIGN_KEY_CHECKS = 1');
  return modules;
}

/** One of `list`, at random. */
const any = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * Moves one module of the Instance to another state, as its server would, with the event: more
 * often a module in trouble back to normal than a normal one into trouble, so that most modules
 * stay normal and a few are in trouble at any time.
 */
async function moveOne(c, modules) {
  const troubled = modules.filter((m) => m.state !== 'normal');
  const recover =
    troubled.length > 0 && (troubled.length === modules.length || Math.random() < RECOVER);
  const m = recover ? any(troubled) : any(modules.filter((x) => x.state === 'normal'));
  const next = recover ? 'normal' : any(WORSE);
  const s = STATES[next];
  const now = Math.floor(Date.now() / 1000);
  const value = (next === 'critical' ? 90 + Math.random() * 10 : Math.random() * 70).toFixed(1);
  await c.query(
    'UPDATE tagente_estado SET last_status = estado, last_known_status = known_status, estado = ?, known_status = ?, datos = ?, timestamp = FROM_UNIXTIME(?), utimestamp = ?, last_status_change = ? WHERE id_agente_modulo = ?',
    [s.estado, s.estado, value, now, now, now, m.id],
  );
  if (m.alert) {
    // Critical fires the alert; back to normal recovers it.
    await c.query(
      next === 'critical'
        ? 'UPDATE talert_template_modules SET times_fired = times_fired + 1, internal_counter = internal_counter + 1, last_fired = ? WHERE id = ?'
        : 'UPDATE talert_template_modules SET times_fired = 0, internal_counter = 0, last_reference = ? WHERE id = ?',
      [now, m.id],
    );
  }
  m.state = next;
  await recount(c, m.agent);
  await c.query(
    'INSERT INTO tevento (id_agente, id_grupo, estado, timestamp, utimestamp, evento, event_type, id_agentmodule, criticity, module_status) VALUES (?, ?, 0, FROM_UNIXTIME(?), ?, ?, ?, ?, ?, ?)',
    [
      m.agent,
      m.group,
      now,
      now,
      `Module&#x20;${m.name}&#x20;is&#x20;going&#x20;to&#x20;${s.word}&#x20;&#40;${value}&#41;`,
      s.event,
      m.id,
      s.criticity,
      s.estado,
    ],
  );
}

/**
 * Every `ms`, one module of one Instance (each in turn) changes state. `instances` are
 * {connection, modules} as seedInstance left them. Returns the timer.
 */
export function simulateInstances(instances, ms, log) {
  let n = 0;
  let busy = false;
  return setInterval(async () => {
    if (busy) return;
    busy = true;
    const { connection, modules } = instances[n % instances.length];
    n++;
    try {
      await moveOne(connection, modules);
    } catch (err) {
      log('instance simulator:', err.message);
    } finally {
      busy = false;
    }
  }, ms);
}
