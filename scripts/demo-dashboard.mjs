// The demo's Command Center page: FlowFuse's Dashboard 2 at /dashboard, installed for the demo
// only (the package never depends on it), and the part of the demo flow that feeds it: the
// agent-cache node, instance-query's tactical view every 3 s, event-pull's batches, and the
// package's own metrics (the lag per Instance), gathered by one function into one model that a
// table and two charts show. Used by scripts/demo.mjs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/**
 * Installs @flowfuse/node-red-dashboard once into a cache folder (scripts/fetch-dashboard.sh,
 * from the npm registry) and links it into the userDir's node_modules, where Node-RED finds it;
 * its own dependencies resolve from the cache folder. Returns its version.
 */
export function installDashboard(userDir) {
  const modules = execFileSync('bash', [join(root, 'scripts/fetch-dashboard.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const scope = join(userDir, 'node_modules', '@flowfuse');
  mkdirSync(scope, { recursive: true });
  const link = join(scope, 'node-red-dashboard');
  rmSync(link, { force: true, recursive: true });
  symlinkSync(join(modules, '@flowfuse', 'node-red-dashboard'), link, 'dir');
  return execFileSync(
    process.execPath,
    ['-p', `require(${JSON.stringify(join(link, 'package.json'))}).version`],
    { encoding: 'utf8' },
  ).trim();
}

// Runs in Node-RED: keeps the latest of each source in the node's context and, on every tactical
// answer (every 3 s), sends the page's model and the charts' points.
const pageModelJs = `
const state = context.get('state') || { tactical: {}, reports: {}, events: {}, lag: {}, cache: {}, cacheStatus: '' };
const name = (id) => (state.tactical[id] && state.tactical[id].instance.name) || (state.reports[id] && state.reports[id].name) || 'instance ' + id;
if (msg.topic === 'metrics') {
  // Prometheus text: the lag gauges per Instance, and whatever agent-cache reports per Instance.
  state.lag = {};
  for (const line of String(msg.payload).split('\\n')) {
    const m = /^(pandora_sync_[a-z_]+)\\{([^}]*)\\} ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m) continue;
    const inst = /(?:^|,)instance="([^"]*)"/.exec(m[2]);
    if (!inst) continue;
    // Seconds to one decimal: the page is read by people.
    const value = Math.round(Number(m[3]) * 10) / 10;
    if (m[1] === 'pandora_sync_event_lag_seconds') state.lag[inst[1]] = value;
    else if (m[1] === 'pandora_sync_agent_cache_lag_seconds') {
      (state.cache[inst[1]] = state.cache[inst[1]] || {}).lag = value;
    }
  }
  context.set('state', state);
  return null;
}
if (msg.status && msg.status.source) {
  state.cacheStatus = msg.status.text || '';
  context.set('state', state);
  return null;
}
if (Array.isArray(msg.problems) && Array.isArray(msg.payload)) {
  // agent-cache's answer to a round asked for: the agents each Instance has in the cache now.
  for (const o of msg.payload) {
    if (o.outcome !== 'done') continue;
    const c = (state.cache[String(o.id)] = state.cache[String(o.id)] || {});
    c.agents = o.agents;
    c.written = (c.written || 0) + (o.written || 0) + (o.removed || 0);
  }
  context.set('state', state);
  return null;
}
if (!Array.isArray(msg.instances)) {
  // A batch of event-pull: count it for its Instance.
  if (msg.instance && Array.isArray(msg.payload)) {
    const id = String(msg.instance.id);
    state.events[id] = (state.events[id] || 0) + msg.payload.length;
    context.set('state', state);
  }
  return null;
}
for (const r of msg.instances) state.reports[String(r.id)] = r;
for (const row of msg.payload) if (!row.total) state.tactical[String(row.instance.id)] = row;
context.set('state', state);
const ids = Object.keys(state.reports).sort((a, b) => Number(a) - Number(b));
const instances = ids.map((id) => {
  const t = state.tactical[id];
  const report = state.reports[id];
  const cache = state.cache[id] || {};
  return {
    id: Number(id),
    name: name(id),
    ok: report.ok,
    error: report.error || '',
    agents: t ? t.agents : null,
    modules: t ? t.modules : null,
    alertsFired: t ? t.alertsFired : null,
    events: state.events[id] || 0,
    eventLag: id in state.lag ? state.lag[id] : null,
    cached: 'agents' in cache ? cache.agents : null,
    cacheLag: 'lag' in cache ? cache.lag : null,
    cacheWritten: 'written' in cache ? cache.written : null,
  };
});
const at = new Date().toISOString().slice(11, 19);
const page = { payload: { at, instances, cacheStatus: state.cacheStatus } };
const events = instances.map((i) => ({ topic: i.name, payload: i.events }));
const trouble = instances
  .filter((i) => i.modules)
  .map((i) => ({ topic: i.name, payload: i.modules.critical + i.modules.warning }));
return [page, events, trouble];`;

// A Vue template (Dashboard 2's ui-template): one row per Instance. data-k names each figure
// for the browser test.
const tableVue = `<template>
  <div class="pcc">
    <table class="pcc-table">
      <thead>
        <tr>
          <th rowspan="2">Instance</th>
          <th colspan="6">Agents</th>
          <th colspan="6">Modules</th>
          <th rowspan="2">Alerts fired</th>
          <th rowspan="2">Events copied</th>
          <th rowspan="2">Event lag (s)</th>
          <th rowspan="2">Agents cached</th>
          <th rowspan="2">Cache lag (s)</th>
          <th rowspan="2">Cache rows written</th>
        </tr>
        <tr>
          <template v-for="k in ['agents', 'modules']" :key="k">
            <th v-for="s in statuses" :key="k + s" :class="'pcc-' + s">{{ labels[s] }}</th>
          </template>
        </tr>
      </thead>
      <tbody>
        <tr v-for="i in rows" :key="i.id" :data-instance="i.name">
          <td data-k="name">{{ i.name }}<div v-if="!i.ok" class="pcc-down">{{ i.error }}</div></td>
          <template v-for="k in ['agents', 'modules']" :key="k">
            <td v-for="s in statuses" :key="k + s" :data-k="k + '.' + s" :class="'pcc-' + s">
              {{ i[k] ? i[k][s] : '–' }}
            </td>
          </template>
          <td data-k="alertsFired">{{ i.alertsFired ?? '–' }}</td>
          <td data-k="events">{{ i.events }}</td>
          <td data-k="eventLag">{{ i.eventLag ?? '–' }}</td>
          <td data-k="cached">{{ i.cached ?? '–' }}</td>
          <td data-k="cacheLag">{{ i.cacheLag ?? '–' }}</td>
          <td data-k="cacheWritten">{{ i.cacheWritten ?? '–' }}</td>
        </tr>
      </tbody>
    </table>
    <div class="pcc-foot">
      updated <span data-k="at">{{ msg?.payload?.at ?? '–' }}</span>
      <span v-if="msg?.payload?.cacheStatus"> · agent-cache: <span data-k="cacheStatus">{{ msg.payload.cacheStatus }}</span></span>
    </div>
  </div>
</template>
<script>
export default {
  data() {
    return {
      statuses: ['total', 'normal', 'warning', 'critical', 'unknown', 'notinit'],
      labels: { total: 'all', normal: 'normal', warning: 'warning', critical: 'critical', unknown: 'unknown', notinit: 'not init' },
    };
  },
  computed: {
    rows() {
      return (this.msg && this.msg.payload && this.msg.payload.instances) || [];
    },
  },
};
</script>
<style scoped>
.pcc-table { border-collapse: collapse; width: 100%; font-size: 14px; }
.pcc-table th, .pcc-table td { border: 1px solid #d9d9e0; padding: 4px 6px; text-align: right; }
.pcc-table th { text-align: center; }
.pcc-table td[data-k='name'], .pcc-table th:first-child { text-align: left; font-weight: 600; }
.pcc-table .pcc-normal { color: #2e7d32; }
.pcc-table .pcc-warning { color: #e6a100; }
.pcc-table .pcc-critical { color: #c62828; }
.pcc-table .pcc-unknown { color: #6d6d6d; }
.pcc-table .pcc-notinit { color: #1565c0; }
.pcc-down { color: #c62828; font-weight: normal; font-size: 12px; }
.pcc-foot { margin-top: 6px; color: #6d6d6d; font-size: 12px; }
</style>`;

function chart(id, group, z, x, y, name, label, yLabel, order) {
  return {
    id,
    type: 'ui-chart',
    z,
    group,
    name,
    label,
    order,
    chartType: 'line',
    category: 'topic',
    categoryType: 'msg',
    xAxisLabel: '',
    xAxisProperty: '',
    xAxisPropertyType: 'timestamp',
    xAxisType: 'time',
    xAxisFormat: '',
    xAxisFormatType: 'auto',
    xmin: '',
    xmax: '',
    yAxisLabel: yLabel,
    yAxisProperty: 'payload',
    yAxisPropertyType: 'msg',
    ymin: '0',
    ymax: '',
    bins: 10,
    action: 'append',
    stackSeries: false,
    pointShape: 'circle',
    pointRadius: 3,
    showLegend: true,
    removeOlder: '10',
    removeOlderUnit: '60',
    removeOlderPoints: '',
    colors: [
      '#0095FF',
      '#FF7F0E',
      '#2CA02C',
      '#A347E1',
      '#D62728',
      '#FF9896',
      '#9467BD',
      '#C5B0D5',
      '#FF0000',
    ],
    textColor: ['#666666'],
    textColorDefault: true,
    gridColor: ['#e5e5e5'],
    gridColorDefault: true,
    width: '6',
    height: '5',
    className: '',
    interpolation: 'linear',
    x,
    y,
    wires: [[]],
  };
}

/**
 * The flow's Command Center part, on tab `z` with the Command Center config `cfg`; `uiPort` is
 * where Node-RED serves the metrics. The flow wires its event-pull to `eventSink` (its batches
 * are counted per Instance).
 */
export function dashboardFlow({ z, cfg, uiPort }) {
  const id = (n) => `d3m0dash${String(n).padStart(7, '0')}`;
  const base = id(1);
  const theme = id(2);
  const page = id(3);
  const groupTable = id(4);
  const groupCharts = id(5);
  const model = id(20);
  return {
    // event-pull's output goes to this node too.
    eventSink: model,
    nodes: [
      {
        id: id(10),
        type: 'comment',
        z,
        x: 390,
        y: 540,
        wires: [],
        name: 'Command Center views: the agent cache, the tactical view, and the page at /dashboard',
      },
      {
        id: id(15),
        type: 'inject',
        z,
        x: 110,
        y: 590,
        name: 'every 5 s',
        repeat: '5',
        once: true,
        onceDelay: '3',
        topic: '',
        payload: '',
        payloadType: 'str',
        props: [],
        wires: [[id(11)]],
      },
      {
        id: id(11),
        type: 'agent-cache',
        z,
        x: 290,
        y: 590,
        name: 'agent cache',
        config: cfg,
        instances: '',
        interval: '5',
        wires: [[model]],
      },
      {
        id: id(12),
        type: 'status',
        z,
        x: 510,
        y: 590,
        name: 'cache status',
        scope: [id(11)],
        wires: [[model]],
      },
      {
        id: id(13),
        type: 'inject',
        z,
        x: 110,
        y: 650,
        name: 'every 3 s',
        repeat: '3',
        once: true,
        onceDelay: '2',
        topic: '',
        payload: '',
        payloadType: 'str',
        props: [],
        wires: [[id(14)]],
      },
      {
        id: id(14),
        type: 'instance-query',
        z,
        x: 290,
        y: 650,
        name: 'tactical view',
        config: cfg,
        instances: '',
        query: 'tactical',
        timeout: '10',
        limit: '1000',
        allowChanges: false,
        wires: [[model, id(16)]],
      },
      {
        id: id(16),
        type: 'debug',
        z,
        x: 500,
        y: 700,
        name: 'tactical',
        active: false,
        complete: 'payload',
        wires: [],
      },
      {
        id: id(17),
        type: 'inject',
        z,
        x: 110,
        y: 730,
        name: 'every 3 s',
        repeat: '3',
        once: true,
        onceDelay: '1',
        topic: 'metrics',
        payload: '',
        payloadType: 'str',
        props: [{ p: 'topic', vt: 'str' }],
        wires: [[id(18)]],
      },
      {
        id: id(18),
        type: 'http request',
        z,
        x: 290,
        y: 730,
        name: 'lag metrics',
        method: 'GET',
        ret: 'txt',
        paytoqs: 'ignore',
        url: `http://127.0.0.1:${uiPort}/pandora-sync/metrics`,
        tls: '',
        persist: false,
        proxy: '',
        insecureHTTPParser: false,
        authType: '',
        senderr: false,
        headers: [],
        wires: [[model]],
      },
      {
        id: model,
        type: 'function',
        z,
        x: 560,
        y: 650,
        name: 'per Instance',
        func: pageModelJs,
        outputs: 3,
        wires: [[id(21)], [id(22)], [id(23)]],
      },
      {
        id: id(21),
        type: 'ui-template',
        z,
        group: groupTable,
        page: '',
        ui: '',
        name: 'Instances table',
        order: 1,
        width: '12',
        height: '0',
        head: '',
        format: tableVue,
        storeOutMessages: true,
        passthru: false,
        resendOnRefresh: true,
        templateScope: 'local',
        className: '',
        x: 760,
        y: 610,
        wires: [[]],
      },
      chart(
        id(22),
        groupCharts,
        z,
        770,
        650,
        'events chart',
        'Events copied per Instance',
        'events',
        1,
      ),
      chart(
        id(23),
        groupCharts,
        z,
        780,
        690,
        'modules chart',
        'Modules critical or warning',
        'modules',
        2,
      ),
      {
        id: base,
        type: 'ui-base',
        name: 'Pandora Sync demo',
        path: '/dashboard',
        appIcon: '',
        includeClientData: true,
        acceptsClientConfig: ['ui-notification', 'ui-control'],
        showPathInSidebar: false,
        headerContent: 'page',
        navigationStyle: 'none',
        titleBarStyle: 'default',
        showReconnectNotification: true,
        notificationDisplayTime: 1,
        showDisconnectNotification: true,
        allowInstall: false,
      },
      {
        id: theme,
        type: 'ui-theme',
        name: 'Default',
        colors: {
          surface: '#fcfcfd',
          primary: '#0d74ce',
          bgPage: '#f9f9fb',
          groupBg: '#ffffff',
          groupOutline: '#d9d9e0',
        },
        sizes: {
          density: 'default',
          pagePadding: '12px',
          groupGap: '12px',
          groupBorderRadius: '4px',
          widgetGap: '12px',
        },
      },
      {
        id: page,
        type: 'ui-page',
        name: 'Command Center',
        ui: base,
        path: '/',
        icon: 'view-dashboard',
        layout: 'grid',
        theme,
        breakpoints: [
          { name: 'Default', px: '0', cols: '3' },
          { name: 'Tablet', px: '576', cols: '6' },
          { name: 'Small Desktop', px: '768', cols: '9' },
          { name: 'Desktop', px: '1024', cols: '12' },
        ],
        order: 1,
        className: '',
        visible: 'true',
        disabled: 'false',
      },
      {
        id: groupTable,
        type: 'ui-group',
        name: 'Instances: agents and modules by status, alerts fired, events and lag',
        page,
        width: '12',
        height: '1',
        order: 1,
        showTitle: true,
        className: '',
        visible: 'true',
        disabled: 'false',
        groupType: 'default',
      },
      {
        id: groupCharts,
        type: 'ui-group',
        name: 'Over time',
        page,
        width: '12',
        height: '1',
        order: 2,
        showTitle: true,
        className: '',
        visible: 'true',
        disabled: 'false',
        groupType: 'default',
      },
    ],
  };
}
