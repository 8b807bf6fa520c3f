import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import { TentacleClient } from '../../lib/tentacle';
import { generateCertificates } from '../../lib/tls/generate';
import tentacleBuffer from '../../nodes/tentacle-buffer/tentacle-buffer';
import helper from '../helpers/red-helper';
import { withCatalogue } from './catalogue';
import { waitFor } from '../helpers/wait';
import { RawPeer, removeDir, sleep, tempDir } from '../tentacle/helpers';

const bufferNode = withCatalogue(tentacleBuffer, 'tentacle-buffer');

type Msg = NodeMessage & { filename?: string; size?: number; peer?: string; reason?: string };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

function errorsOf(id: string): string[] {
  return helper
    .log()
    .args.filter(([e]) => e.level === 20 && e.id === id)
    .map(([e]) => String(e.msg));
}

describe('tentacle-buffer node', () => {
  const dirs: string[] = [];
  before(() => new Promise<void>((resolve) => helper.startServer(resolve)));
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(resolve));
    for (const d of dirs) await removeDir(d);
  });

  async function deploy(props: Record<string, unknown>, credentials?: Record<string, string>) {
    const storage = (props.storage as string) ?? join(await tempDir(), 'data_in');
    dirs.push(join(storage, '..'));
    const port = (props.port as number) ?? (await freePort());
    const flow = [
      {
        id: 'buf',
        type: 'tentacle-buffer',
        name: 'buffer',
        address: '127.0.0.1',
        ...props,
        port,
        storage,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(bufferNode, flow, credentials ? { buf: credentials } : undefined);
    const node = helper.getNode('buf') as Node;
    const out = helper.getNode('out') as Node;
    const msgs: Msg[] = [];
    out.on('input', (m: NodeMessage) => msgs.push(m as Msg));
    const statuses: { text?: string; fill?: string }[] = [];
    const original = node.status.bind(node);
    node.status = (s: object) => {
      statuses.push(s as { text?: string });
      original(s as never);
    };
    return { node, port, storage, msgs, statuses };
  }

  async function connect(port: number): Promise<TentacleClient> {
    for (let i = 0; ; i++) {
      try {
        return await TentacleClient.connect({ host: '127.0.0.1', port });
      } catch (err) {
        if (i > 50) throw err;
        await sleep(50);
      }
    }
  }

  it('listens; an engine client can SEND, LS and MV through it; events become messages', async () => {
    const d = await deploy({ filters: '.*\\.conf:conf;.*\\.md5:md5', overwrite: 'false' });
    const c = await connect(d.port);
    await c.send('agent_1.1.data', Buffer.from('<agent_data/>'));
    await c.send('agent.conf', Buffer.from('conf'));
    assert.equal(await readFile(join(d.storage, 'conf', 'agent.conf'), 'utf8'), 'conf');
    await assert.rejects(c.send('agent.conf', Buffer.from('again')), {
      reply: 'SEND ERR (file already exists)',
    });
    const names = await c.ls('');
    assert.ok(names.includes('agent_1.1.data') && names.includes('conf'));
    assert.deepEqual(await c.ls('x.conf'), ['.', '..', 'agent.conf']);
    let got = '';
    await c.mv('agent_1.1.data', async (data) => {
      for await (const chunk of data) got += String(chunk);
    });
    await c.quit();
    assert.equal(got, '<agent_data/>');
    await waitFor(() => d.msgs.some((m) => m.topic === 'pulled'));
    const received = d.msgs.filter((m) => m.topic === 'received').map((m) => m.filename);
    assert.deepEqual(received, ['agent_1.1.data', 'agent.conf']);
    const rejected = d.msgs.find((m) => m.topic === 'rejected');
    assert.equal(rejected?.reason, 'file already exists');
    assert.match(String(rejected?.peer), /^127\.0\.0\.1:\d+$/);
    assert.ok(!(await readdir(d.storage)).includes('agent_1.1.data'));
    await waitFor(() => d.statuses.some((s) => /\b1 file\b/.test(s.text ?? '')));
  });

  it('overwrite on replaces files; input messages store files and refuse bad ones', async () => {
    const d = await deploy({ overwrite: true, insecure: 'true', maxSize: '10' });
    const c = await connect(d.port);
    await c.send('o.data', Buffer.from('one'));
    await c.send('o.data', Buffer.from('two'));
    assert.equal(await readFile(join(d.storage, 'o.data'), 'utf8'), 'two');
    await c.quit();
    d.node.receive({ filename: 'from-flow.data', payload: 'hello' } as NodeMessage);
    await waitFor(async () => (await readdir(d.storage)).includes('from-flow.data'));
    assert.equal(await readFile(join(d.storage, 'from-flow.data'), 'utf8'), 'hello');
    d.node.receive({ filename: 'bad/name', payload: 'x' } as NodeMessage);
    d.node.receive({ filename: 'big.data', payload: Buffer.alloc(11) } as NodeMessage);
    await waitFor(() => errorsOf('buf').length >= 2);
    assert.match(errorsOf('buf').join('\n'), /invalid file name/);
    assert.match(errorsOf('buf').join('\n'), /too big/);
  });

  it('messages caused by an input message carry its properties', async () => {
    const d = await deploy({ maxSize: '10' });
    d.node.receive({ filename: 'p.data', payload: 'hi', correlation: 7 } as NodeMessage);
    d.node.receive({
      filename: 'q.data',
      payload: Buffer.alloc(11),
      correlation: 8,
    } as NodeMessage);
    await waitFor(() => d.msgs.length >= 2);
    const byName = new Map(d.msgs.map((m) => [m.filename, m as Msg & { correlation?: number }]));
    assert.equal(byName.get('p.data')?.topic, 'received');
    assert.equal(byName.get('p.data')?.correlation, 7);
    assert.equal(byName.get('p.data')?.peer, 'flow');
    assert.equal(byName.get('q.data')?.topic, 'rejected');
    assert.equal(byName.get('q.data')?.correlation, 8);
  });

  it('lsLimit bounds what one LS answers', async () => {
    const d = await deploy({ lsLimit: '2' });
    const c = await connect(d.port);
    for (let i = 0; i < 5; i++) await c.send(`l${i}.data`, Buffer.from('x'));
    const names = await c.ls('');
    assert.equal(names.length, 4, names.join(' '));
    await c.quit();
  });

  it('quota refusal reaches the client and the flow', async () => {
    const d = await deploy({ quotaFiles: '1', quotaBytes: '' });
    const c = await connect(d.port);
    await c.send('a.data', Buffer.from('a'));
    await assert.rejects(c.send('b.data', Buffer.from('b')), { reply: /quota exceeded/ });
    await c.quit();
    await waitFor(() => d.msgs.some((m) => m.topic === 'rejected' && /quota/.test(m.reason ?? '')));
  });

  it('the status follows what the buffer holds', async () => {
    const d = await deploy({});
    await waitFor(() => d.statuses.some((s) => /0 files, 0 B/.test(s.text ?? '')));
    const c = await connect(d.port);
    for (let i = 0; i < 20; i++) await c.send(`f${i}.data`, Buffer.alloc(100));
    await c.quit();
    await waitFor(() => d.statuses.some((s) => /20 files, 2\.0 KB/.test(s.text ?? '')));
    // Throttled: far fewer status updates than files.
    assert.ok(d.statuses.length < 15, `${d.statuses.length} status updates`);
  });

  it('redeploy during an upload leaves no partial file and frees the port', async () => {
    const d = await deploy({});
    const raw = await (async () => {
      for (let i = 0; ; i++) {
        try {
          return await RawPeer.connect(d.port);
        } catch (err) {
          if (i > 50) throw err;
          await sleep(50);
        }
      }
    })();
    raw.write('SEND <partial.data> SIZE 1000\n');
    assert.equal(await raw.line(), 'SEND OK');
    raw.write(Buffer.alloc(400));
    await waitFor(
      async () => (await readdir(d.storage)).some((n) => n.includes('~')),
      5000,
      'the upload to be under way',
    );
    // Keep the upload alive past the grace period so close() has to cut it.
    const keepAlive = setInterval(() => raw.write(Buffer.alloc(1)), 500);
    const t0 = Date.now();
    await helper.unload();
    clearInterval(keepAlive);
    assert.ok(Date.now() - t0 < 9000);
    assert.deepEqual(await readdir(d.storage), []);
    const again = await deploy({ port: d.port, storage: d.storage });
    const c = await connect(again.port);
    await c.send('after.data', Buffer.from('x'));
    await c.quit();
  });

  /** Node-RED's log levels. */
  const WARN = 30;
  const INFO = 40;
  function logsOf(id: string, level: number): string[] {
    return helper
      .log()
      .args.filter(([e]) => e.level === level && e.id === id)
      .map(([e]) => String(e.msg));
  }

  it('pullers: only the listed certificate may take files; it needs tlsCa; no tlsCa is said once', async () => {
    const certs = generateCertificates({ bits: 2048, clientName: 'sync-central' });
    const agent = generateCertificates({ bits: 2048, caName: 'Agents CA', clientName: 'web-01' });
    const dir = await tempDir();
    dirs.push(dir);
    const pem = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const tlsProps = {
      tlsCert: await pem('server-cert.pem', certs.server.cert),
      tlsKey: await pem('server-key.pem', certs.server.key),
      tlsCa: await pem('ca.pem', certs.ca.cert + agent.ca.cert),
    };
    const d = await deploy({ ...tlsProps, pullers: 'Someone Else, sync-central' });
    const tlsClient = (set: typeof certs) =>
      TentacleClient.connect({
        host: '127.0.0.1',
        port: d.port,
        tls: { cert: set.client.cert, key: set.client.key, ca: certs.ca.cert },
      });
    await waitFor(() => d.statuses.some((s) => /0 files/.test(s.text ?? '')));
    const a = await tlsClient(agent);
    await a.send('web-01.1.data', Buffer.from('<agent_data/>'));
    await assert.rejects(a.ls(''), { code: 'ERR_CLOSED' });
    const b = await tlsClient(agent);
    await assert.rejects(
      b.recv('web-01.1.data', async () => undefined),
      { code: 'ERR_CLOSED' },
    );
    await waitFor(() => logsOf('buf', WARN).some((w) => /refused LS .*\(web-01\)/.test(w)));
    assert.equal(
      logsOf('buf', WARN).filter((w) => /refused/.test(w)).length,
      1,
      'one warning per client',
    );
    const c = await tlsClient(certs);
    assert.ok((await c.ls('')).includes('web-01.1.data'));
    await c.mv('web-01.1.data', async (data) => {
      for await (const chunk of data) void chunk;
    });
    await c.quit();
    await waitFor(() => d.msgs.some((m) => m.topic === 'pulled'));
    assert.deepEqual(
      logsOf('buf', INFO).filter((l) => /any client/.test(l)),
      [],
    );
    await helper.unload();

    // pullers without a CA: a clear configuration error, nothing listening.
    const e = await deploy({ tlsCert: tlsProps.tlsCert, tlsKey: tlsProps.tlsKey, pullers: 'x' });
    await waitFor(() => errorsOf('buf').some((m) => /pullers needs TLS with a CA/.test(m)));
    assert.ok(e.statuses.some((s) => s.fill === 'red'));
    await assert.rejects(TentacleClient.connect({ host: '127.0.0.1', port: e.port }), {
      code: 'ERR_CONNECT',
    });
    await helper.unload();

    // No tlsCa: accepted as stock, and the log says so once.
    await deploy({});
    await waitFor(() => logsOf('buf', INFO).some((l) => /accepts any client \(no tlsCa\)/.test(l)));
    assert.equal(logsOf('buf', INFO).filter((l) => /any client/.test(l)).length, 1);
    assert.match(
      logsOf('buf', INFO).find((l) => /any client/.test(l)) ?? '',
      /list, download and delete/,
    );
  });

  it('bad configuration gives a node error and a red status, not an exception', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const d = await deploy({ port });
      await waitFor(() => errorsOf('buf').some((e) => /port in use/.test(e)));
      assert.ok(d.statuses.some((s) => s.fill === 'red'));
      d.node.receive({ filename: 'x.data', payload: 'x' } as NodeMessage);
      await waitFor(() => errorsOf('buf').some((e) => /not running/.test(e)));
    } finally {
      blocker.close();
    }
    await helper.unload();
    const file = join(await tempDir(), 'a-file');
    dirs.push(join(file, '..'));
    await writeFile(file, 'not a directory');
    await deploy({ storage: join(file, 'data_in') });
    await waitFor(() => errorsOf('buf').some((e) => /ENOTDIR|not a directory/.test(e)));
    await helper.unload();
    await deploy({ tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' });
    await waitFor(() => errorsOf('buf').some((e) => /cannot read tlsCert/.test(e)));
    await helper.unload();
    await deploy({ port: 'abc' });
    await waitFor(() => errorsOf('buf').some((e) => /port must be/.test(e)));
  });
});
