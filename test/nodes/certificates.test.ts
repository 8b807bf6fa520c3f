/**
 * Certificates made for the user (the editor's "Create certificates…" button): the admin endpoint
 * writes a CA, a server and a client certificate that chain and work with a real buffer, and the
 * buffer's and the puller's status show the days their certificate has left.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import { TentacleClient } from '../../lib/tentacle';
import pandoraConfigModule from '../../nodes/pandora-config/pandora-config';
import tentacleBufferModule from '../../nodes/tentacle-buffer/tentacle-buffer';
import tentaclePullModule from '../../nodes/tentacle-pull/tentacle-pull';
import { withCatalogue } from './catalogue';
import { waitFor } from '../helpers/wait';
import { refusedPort, tempDir } from '../sync/fixtures';
import helper from '../helpers/red-helper';

// The helper's RED._ returns keys; these nodes speak through their catalogues.
const tentacleBuffer = withCatalogue(tentacleBufferModule, 'tentacle-buffer');
const tentaclePull = withCatalogue(tentaclePullModule, 'tentacle-pull');
const pandoraConfig = withCatalogue(pandoraConfigModule, 'pandora-config');

interface Reply {
  status: number;
  body: {
    error?: string;
    dir?: string;
    names?: string[];
    notAfter?: string;
    files: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>;
  };
}

/** The helper's supertest, as far as a POST goes (red-helper types only GET). */
function post(body: object): Promise<Reply> {
  const req = helper.request() as unknown as {
    post(path: string): { send(b: object): Promise<Reply> };
  };
  return req.post('/pandora-sync/certificates').send(body);
}

type Status = { fill?: string; shape?: string; text?: string };

function statusCalls(node: Node): Status[] {
  const calls: Status[] = [];
  (node as unknown as EventEmitter).on('call:status', (call: { args: [Status] }) =>
    calls.push(call.args[0]),
  );
  return calls;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('certificates made for the user', () => {
  let root: string;
  before(async () => {
    root = tempDir('pandora-certs-');
    await new Promise<void>((resolve) => helper.startServer(resolve));
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a CA, a server and a client certificate that chain, keys mode 0600', async () => {
    // Both node types register the endpoint; the routes must exist once.
    await helper.load([pandoraConfig, tentacleBuffer], []);
    const app = (helper as unknown as { _httpAdmin: { _router: { stack: Layer[] } } })._httpAdmin;
    type Layer = { route?: { path: string } };
    const routes = app._router.stack.filter((l) => l.route?.path === '/pandora-sync/certificates');
    assert.equal(routes.length, 2, 'one GET and one POST');

    const dir = join(root, 'set1', 'nested');
    const res = await post({ dir, names: '127.0.0.1, localhost,buffer1.example' });
    assert.equal(res.status, 200, res.body.error);
    const f = res.body.files;
    assert.deepEqual(res.body.names, ['127.0.0.1', 'localhost', 'buffer1.example']);
    assert.deepEqual(readdirSync(dir).sort(), [
      'ca.pem',
      'client-cert.pem',
      'client-key.pem',
      'server-cert.pem',
      'server-key.pem',
    ]);
    for (const p of Object.values(f)) assert.equal(join(dir, p.split('/').pop() as string), p);
    assert.equal(statSync(f.serverKey).mode & 0o777, 0o600);
    assert.equal(statSync(f.clientKey).mode & 0o777, 0o600);
    assert.equal(statSync(f.ca).mode & 0o777, 0o644);

    const ca = new X509Certificate(readFileSync(f.ca));
    const server = new X509Certificate(readFileSync(f.serverCert));
    const client = new X509Certificate(readFileSync(f.clientCert));
    assert.ok(ca.ca, 'the CA is a CA');
    assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
    for (const [what, cert] of [
      ['server', server],
      ['client', client],
    ] as const) {
      assert.ok(cert.checkIssued(ca), `${what} issued by the CA`);
      assert.ok(cert.verify(ca.publicKey), `${what} signed by the CA`);
      assert.ok(!cert.ca, `${what} is not a CA`);
    }
    assert.ok(server.checkPrivateKey(createPrivateKey(readFileSync(f.serverKey))));
    assert.ok(client.checkPrivateKey(createPrivateKey(readFileSync(f.clientKey))));
    const sans = (server.subjectAltName ?? '').split(', ').sort();
    assert.deepEqual(sans, ['DNS:buffer1.example', 'DNS:localhost', 'IP Address:127.0.0.1']);
    assert.ok(server.checkIP('127.0.0.1') && server.checkHost('buffer1.example'));
    assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
    assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
    const days = (new Date(server.validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 820 && days <= 825, `${days} days`);
    assert.equal(new Date(res.body.notAfter ?? '').getTime(), new Date(server.validTo).getTime());
  });

  it('refuses a relative folder, bad names and files already there unless asked', async () => {
    await helper.load(tentacleBuffer, []);
    const relative = await post({ dir: 'certs/here', names: '127.0.0.1' });
    assert.equal(relative.status, 400);
    assert.match(relative.body.error ?? '', /absolute path/);
    assert.ok(!existsSync(join(process.cwd(), 'certs/here')));

    const dir = join(root, 'set2');
    for (const [names, why] of [
      ['', /at least one/],
      ['0.0.0.0', /listen address/],
      ['buffer/one', /neither an IP address nor a DNS name/],
      ['bad_name!.example', /neither an IP address nor a DNS name/],
    ] as const) {
      const r = await post({ dir, names });
      assert.equal(r.status, 400, `names ${JSON.stringify(names)}`);
      assert.match(r.body.error ?? '', why);
    }
    assert.ok(!existsSync(dir), 'nothing written for a refused request');

    const first = await post({ dir, names: ['10.142.50.10'] });
    assert.equal(first.status, 200, first.body.error);
    const before = readFileSync(first.body.files.serverCert, 'utf8');
    const again = await post({ dir, names: ['10.142.50.10'] });
    assert.equal(again.status, 409);
    assert.match(again.body.error ?? '', /already there: .*ca\.pem/);
    assert.equal(readFileSync(first.body.files.serverCert, 'utf8'), before, 'left as it was');
    assert.ok(!readdirSync(dir).some((n) => n.includes('~')), 'no temp files left');

    const replaced = await post({ dir, names: ['10.142.50.10'], overwrite: 'true' });
    assert.equal(replaced.status, 200, replaced.body.error);
    assert.notEqual(readFileSync(first.body.files.serverCert, 'utf8'), before);
    assert.equal(statSync(first.body.files.clientKey).mode & 0o777, 0o600);
    assert.equal(readdirSync(dir).length, 5);
  });

  it('every admin POST endpoint refuses a form (urlencoded, multipart, text/plain) with 415', async () => {
    // What a cross-site page can make a browser send without asking first; before issue 22 the
    // certificates endpoint took the urlencoded and multipart fields and wrote the files.
    await helper.load([pandoraConfig, tentacleBuffer], []);
    const conf = join(root, 'pandora_server.conf');
    writeFileSync(conf, 'dbhost 127.0.0.1\ndbname pandora\n');
    const certDir = join(root, 'by-form');
    const bodies: Record<string, Record<string, string>> = {
      '/pandora-sync/certificates': { dir: certDir, names: '127.0.0.1' },
      '/pandora-sync/conf': { path: conf },
      // GET only: a POST finds no route.
      '/pandora-sync/metrics': { anything: '1' },
    };
    type Res = { status: number; body: { error?: string }; text: string };
    type Req = {
      type(t: string): Req;
      set(k: string, v: string): Req;
      field(k: string, v: string): Req;
      send(b: string | object): Promise<Res>;
    } & Promise<Res>;
    const agent = helper.request() as unknown as { post(path: string): Req };
    for (const [path, fields] of Object.entries(bodies)) {
      const forms: [string, () => Promise<Res>][] = [
        ['urlencoded', () => agent.post(path).type('form').send(fields)],
        [
          'multipart',
          () => {
            let r = agent.post(path);
            for (const [k, v] of Object.entries(fields)) r = r.field(k, v);
            return r;
          },
        ],
        [
          'text/plain',
          () => agent.post(path).set('Content-Type', 'text/plain').send(JSON.stringify(fields)),
        ],
      ];
      for (const [kind, send] of forms) {
        const r = await send();
        const want = path.endsWith('/metrics') ? 404 : 415;
        assert.equal(r.status, want, `${kind} to ${path}: ${r.text}`);
        if (want === 415) assert.match(r.body.error ?? '', /application\/json/);
        assert.doesNotMatch(r.text, /127\.0\.0\.1/, `${kind} to ${path} leaks nothing`);
      }
    }
    assert.ok(!existsSync(certDir), 'no certificate written by a form');
    // JSON still works.
    const ok = await post({ dir: certDir, names: '127.0.0.1' });
    assert.equal(ok.status, 200, ok.body.error);
  });

  it('a buffer deployed with the files takes a SEND from a client with the client cert', async () => {
    await helper.load(tentacleBuffer, []);
    const made = await post({ dir: join(root, 'set3'), names: '127.0.0.1' });
    assert.equal(made.status, 200, made.body.error);
    const f = made.body.files;
    const port = await refusedPort();
    const storage = join(root, 'buffer3');
    await helper.unload();
    await helper.load(tentacleBuffer, [
      {
        id: 'buf',
        type: 'tentacle-buffer',
        address: '127.0.0.1',
        port,
        storage,
        tlsCert: f.serverCert,
        tlsKey: f.serverKey,
        tlsCa: f.ca,
        wires: [[]],
      },
    ]);
    const buf = helper.getNode('buf') as Node;
    const statuses = statusCalls(buf);
    let client: TentacleClient | null = null;
    await waitFor(async () => {
      client = await TentacleClient.connect({
        host: '127.0.0.1',
        port,
        tls: {
          cert: readFileSync(f.clientCert),
          key: readFileSync(f.clientKey),
          ca: readFileSync(f.ca),
        },
      });
      return true;
    });
    const agent = client as unknown as TentacleClient;
    await agent.send('agent-1.1.data', Buffer.from('<agent_data/>'));
    await agent.quit();
    assert.equal(readFileSync(join(storage, 'agent-1.1.data'), 'utf8'), '<agent_data/>');
    await waitFor(() => statuses.some((s) => /\b1 file\b/.test(s.text ?? '')));
    const last = statuses.at(-1) as Status;
    assert.equal(last.fill, 'green');
    assert.equal(last.shape, 'dot');
    assert.match(last.text ?? '', /^127\.0\.0\.1:\d+ · 1 file, 13 B · cert 82[45] d$/);
  });

  it('turns the buffer and the pull yellow when the certificate has under 30 days left', async () => {
    await helper.load(tentacleBuffer, []);
    const made = await post({ dir: join(root, 'set4'), names: '127.0.0.1', days: 10 });
    assert.equal(made.status, 200, made.body.error);
    const f = made.body.files;
    const port = await refusedPort();
    await helper.unload();
    await helper.load(
      [pandoraConfig, tentacleBuffer, tentaclePull],
      [
        {
          id: 'buf',
          type: 'tentacle-buffer',
          address: '127.0.0.1',
          port,
          storage: join(root, 'buffer4'),
          tlsCert: f.serverCert,
          tlsKey: f.serverKey,
          tlsCa: f.ca,
          wires: [[]],
        },
        {
          id: 'cfg',
          type: 'pandora-config',
          syncAddress: `127.0.0.1:${port}`,
          incomingDir: join(root, 'data_in4'),
          syncCa: f.ca,
          syncCert: f.clientCert,
          syncKey: f.clientKey,
          syncTimeout: '2',
          syncRetries: '1',
        },
        {
          id: 'pull',
          type: 'tentacle-pull',
          config: 'cfg',
          interval: '0',
          deliver: 'dir',
          wires: [[], []],
        },
      ],
    );
    const buf = helper.getNode('buf') as Node;
    const pull = helper.getNode('pull') as Node;
    const bufStatus = statusCalls(buf);
    const pullStatus = statusCalls(pull);
    // The config warns once, naming the file.
    const warned = helper
      .log()
      .args.some(([e]) => e.level === 30 && /expires in 9 days/.test(String(e.msg)));
    assert.ok(warned, 'pandora-config warned about sync_cert');

    // An input message waits for the buffer to listen, then stores the file as a SEND would.
    buf.receive({ filename: 'agent-2.1.data', payload: 'hello' } as NodeMessage);
    await waitFor(() => bufStatus.some((s) => /\b1 file\b/.test(s.text ?? '')));
    const b = bufStatus.at(-1) as Status;
    assert.equal(b.fill, 'yellow');
    assert.equal(b.shape, 'ring');
    assert.match(b.text ?? '', /^127\.0\.0\.1:\d+ · 1 file, 5 B · cert 9 d$/);

    pull.receive({} as NodeMessage);
    await waitFor(() => pullStatus.some((s) => / in .*cert/.test(s.text ?? '')), 15_000, 'round');
    const p = pullStatus.at(-1) as Status;
    assert.equal(p.fill, 'yellow', p.text);
    assert.match(p.text ?? '', /^1 buffer · 1 file in \d+\.\d s · cert 9 d$/);
    assert.ok((p.text ?? '').length <= 40, p.text);
    assert.equal(readFileSync(join(root, 'data_in4', 'agent-2.1.data'), 'utf8'), 'hello');
  });
});
