/**
 * Hostile input to pandora-config's conf preview (`POST /pandora-sync/conf`) on the real node-red
 * with adminAuth: who may call it, and what any path, body or planted file can make it reveal.
 * Every planted file carries canary words in the places the preview must not show (unknown tokens,
 * their values, comments, `dbpass`); no answer may contain a canary, Node-RED must keep answering,
 * and a pandora-config whose confFile is a FIFO must not hang Node-RED's start.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red';
import { removeDir, seedFromEnv, seeded, tempDir } from './util';

const RANDOM_FILES = Number(process.env.FAULT_CASES) > 0 ? 200 : 400;
const CANARY = 'canary7f3a';

interface Reply {
  status: number;
  text: string;
}

const bcrypt = createRequire(__filename)('bcryptjs') as {
  hashSync(s: string, rounds: number): string;
};

describe('conf preview endpoint under hostile input', () => {
  let nr: RunningNodeRed;
  let dir: string;
  let adminToken = '';
  let readerToken = '';
  const seed = seedFromEnv();
  const rnd = seeded(seed);
  const figures = { inputs: 0, leaks: 0, refused: 0, shown: 0, failures: 0 };
  let startRss = 0;
  const rssKb = (field: 'VmRSS' | 'VmHWM'): number => {
    const status = readFileSync(`/proc/${nr.process.pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  };

  before(async () => {
    dir = tempDir('pandora-sync-hostile-conf-');
    execFileSync('mkfifo', [join(dir, 'fifo.conf')]);
    const hash = bcrypt.hashSync('secret-pw', 8);
    nr = await startNodeRed({
      flows: [
        // Before the bounded reader, reading a FIFO in the constructor blocked Node-RED's start.
        { id: 'c1', type: 'pandora-config', confFile: join(dir, 'fifo.conf') },
      ],
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: hash, permissions: '*' },
            { username: 'reader', password: hash, permissions: 'read' },
          ],
        },
      },
    });
    adminToken = await login('admin', '*');
    readerToken = await login('reader', 'read');
    startRss = rssKb('VmRSS');
  });

  after(async () => {
    if (nr && (nr.process.exitCode ?? nr.process.signalCode) !== null) console.log(nr.output());
    await nr?.stop();
    if (dir) removeDir(dir);
    console.log(
      `hostile-conf: seed ${seed}; ${figures.inputs} inputs, ${figures.shown} shown, ` +
        `${figures.refused} refused, ${figures.leaks} answers with a canary, ` +
        `${figures.failures} failed requests`,
    );
  });

  async function login(username: string, scope: string): Promise<string> {
    const res = await fetch(`${nr.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope,
        username,
        password: 'secret-pw',
      }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, `login as ${username}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** One request to the preview; `body` is sent as is when a string. */
  async function preview(
    body: unknown,
    opts: { token?: string; type?: string; method?: string } = {},
  ): Promise<Reply> {
    figures.inputs++;
    const headers: Record<string, string> = {
      'content-type': opts.type ?? 'application/json',
    };
    const token = opts.token ?? adminToken;
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      const res = await fetch(`${nr.url}/pandora-sync/conf`, {
        method: opts.method ?? 'POST',
        headers,
        body:
          opts.method === 'GET'
            ? undefined
            : typeof body === 'string'
              ? body
              : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (text.includes(CANARY)) figures.leaks++;
      if (res.status === 200) figures.shown++;
      else figures.refused++;
      return { status: res.status, text };
    } catch (err) {
      figures.failures++;
      throw err;
    }
  }

  it('needs a write permission: anonymous and read-only users get nothing', async () => {
    const conf = join(dir, 'auth.conf');
    writeFileSync(conf, `dbhost 10.9.8.7\n# ${CANARY}\n`);
    const anonymous = await preview({ path: conf }, { token: '' });
    const reader = await preview({ path: conf }, { token: readerToken });
    for (const res of [anonymous, reader]) {
      assert.equal(res.status, 401);
      assert.doesNotMatch(res.text, /10\.9\.8\.7/);
    }
    // The old GET route is gone, whoever asks.
    const get = await fetch(`${nr.url}/pandora-sync/conf?path=${encodeURIComponent(conf)}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(get.status, 404);
    assert.doesNotMatch(await get.text(), /10\.9\.8\.7/);
    const admin = await preview({ path: conf });
    assert.equal(admin.status, 200);
    assert.deepEqual(JSON.parse(admin.text), { tokens: { dbhost: '10.9.8.7' } });
  });

  it('serves the metrics to a read permission, not to an anonymous caller', async () => {
    const url = `${nr.url}/pandora-sync/metrics`;
    const anonymous = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    assert.equal(anonymous.status, 401);
    const reader = await fetch(url, {
      headers: { authorization: `Bearer ${readerToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(reader.status, 200);
    assert.match(await reader.text(), /# TYPE pandora_sync_buffer_files gauge/);
  });

  it('refuses system files, devices, FIFOs, loops and odd bodies without echoing content', async () => {
    const big = join(dir, 'big.conf');
    writeFileSync(big, `dbhost x\n# ${CANARY}\n`);
    truncateSync(big, 1024 * 1024 + 1);
    const loop = join(dir, 'loop.conf');
    symlinkSync(loop, loop);
    const toPasswd = join(dir, 'passwd.conf');
    symlinkSync('/etc/passwd', toPasswd);
    mkdirSync(join(dir, 'a-dir.conf'));
    const secrets = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/hosts', '/etc/hostname'];
    const userDirFiles = ['settings.js', 'flows.json', '.config.runtime.json', 'package.json'].map(
      (f) => join(nr.userDir, f),
    );
    const paths = [
      ...secrets,
      ...userDirFiles,
      '/proc/self/environ',
      '/proc/self/cmdline',
      '/proc/self/status',
      '/proc/self/maps',
      '/proc/self/fd/0',
      '/dev/zero',
      '/dev/urandom',
      '/dev/null',
      '/dev/tty',
      '/',
      '/etc',
      join(dir, 'fifo.conf'),
      join(dir, 'a-dir.conf'),
      big,
      loop,
      toPasswd,
      `${dir}/../${dir.split('/').pop()}/passwd.conf`,
      'etc/passwd',
      '../../../../etc/passwd',
      'file:///etc/passwd',
      '~/.bashrc',
      '/etc/passwd\0.conf',
      `/${'a'.repeat(5000)}`,
      '/nonexistent/pandora_server.conf',
      ' ',
    ];
    for (const path of paths) {
      const res = await preview({ path });
      assert.notEqual(res.status, 200, `${path} refused`);
      assert.ok(res.status < 500, `${path}: ${res.status} ${res.text}`);
      assert.match(JSON.parse(res.text).error, /\S/, `${path}: a clear error`);
      assert.doesNotMatch(res.text, /root:|x:0:0|canary|PATH=|credentialSecret|adminAuth/i);
    }
    const bodies: [unknown, string?][] = [
      [{}],
      [{ path: null }],
      [{ path: 42 }],
      [{ path: true }],
      [{ path: ['/etc/passwd'] }],
      [{ path: { toString: '/etc/passwd' } }],
      [[]],
      ['null'],
      ['"/etc/passwd"'],
      ['{"path": "/etc/passwd"'],
      ['path=/etc/passwd', 'application/x-www-form-urlencoded'],
      ['/etc/passwd', 'text/plain'],
      [JSON.stringify({ path: `/${'x/'.repeat(200_000)}` })],
    ];
    for (const [body, type] of bodies) {
      const res = await preview(body, { type });
      assert.notEqual(res.status, 200, `${JSON.stringify(body).slice(0, 80)} refused`);
      assert.ok(res.status < 500, `${JSON.stringify(body).slice(0, 80)}: ${res.status}`);
      assert.doesNotMatch(res.text, /root:|x:0:0/);
    }
  });

  it(`shows only the used tokens of ${RANDOM_FILES} generated files, never a canary`, async () => {
    const used = ['dbhost', 'dbname', 'dbuser', 'incomingdir', 'sync_address', 'sync_port'];
    const junk = ['log_file', 'verbosity', 'servermode', 'x.y-z', 'A1', 'dataserver_threads'];
    for (let i = 0; i < RANDOM_FILES; i++) {
      const lines: string[] = [];
      const expect: Record<string, string> = {};
      const n = 1 + Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) {
        const r = rnd();
        if (r < 0.2) lines.push(`# ${CANARY} comment ${j}`);
        else if (r < 0.25) lines.push('');
        else if (r < 0.35) lines.push(`dbpass ${CANARY}-pw-${j}`);
        else if (r < 0.65) {
          const t = used[Math.floor(rnd() * used.length)];
          const v = `v${i}-${j}${rnd() < 0.2 ? ' with spaces' : ''}`;
          lines.push(`${rnd() < 0.2 ? '\t ' : ''}${t}${rnd() < 0.5 ? '\t' : ' '}${v}`);
          expect[t] = v;
        } else {
          const t = rnd() < 0.5 ? junk[Math.floor(rnd() * junk.length)] : `${CANARY}_${j}`;
          lines.push(`${t} ${CANARY}-value-${j}`);
        }
      }
      // A line that is not `token value` (a stray word with a colon, a NUL) makes it "not a conf".
      const poison = rnd();
      if (poison < 0.1) lines.splice(Math.floor(rnd() * lines.length), 0, `${CANARY}:x:0:0`);
      else if (poison < 0.15) lines.push(`dbhost a\0${CANARY}`);
      const file = join(dir, `gen-${i}.conf`);
      writeFileSync(file, lines.join(rnd() < 0.2 ? '\r\n' : '\n'));
      const hasDbpass = lines.some((l) => l.startsWith('dbpass '));
      const res = await preview({ path: file });
      assert.doesNotMatch(res.text, new RegExp(CANARY), `seed ${seed}, file ${i}`);
      const isConf = poison >= 0.15 && (Object.keys(expect).length > 0 || hasDbpass);
      if (!isConf) {
        assert.equal(res.status, 422, `seed ${seed}, file ${i}: ${res.text}`);
        continue;
      }
      assert.equal(res.status, 200, `seed ${seed}, file ${i}: ${res.text}`);
      const want: Record<string, string> = { ...expect };
      if (hasDbpass) want.dbpass = '(set)';
      assert.deepEqual(JSON.parse(res.text).tokens, want, `seed ${seed}, file ${i}`);
    }
    assert.equal(figures.leaks, 0);
    assert.equal(figures.failures, 0);
    // Still answering, and not killed on the way.
    assert.equal(nr.process.exitCode, null);
    console.log(
      `hostile-conf: node-red RSS ${Math.round(startRss / 1024)} MiB once started, ` +
        `peak ${Math.round(rssKb('VmHWM') / 1024)} MiB after the run`,
    );
  });
});
