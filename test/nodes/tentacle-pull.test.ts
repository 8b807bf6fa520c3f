import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import pandoraConfig from '../../nodes/pandora-config/pandora-config';
import tentaclePull from '../../nodes/tentacle-pull/tentacle-pull';
import type { BufferSummary, PushResult } from '../../lib/sync/puller';
import { generateCertificates } from '../../lib/tls/generate';
import { dataFiles, filesIn, refusedPort, sha1, startBuffer, tempDir } from '../sync/fixtures';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';
import { withCatalogue } from './catalogue';

const pullNode = withCatalogue(tentaclePull, 'tentacle-pull');
const pullNodeEs = withCatalogue(tentaclePull, 'tentacle-pull', 'es-ES');

type AnyMsg = NodeMessage & Record<string, unknown>;

function collect(node: Node): AnyMsg[] {
  const got: AnyMsg[] = [];
  node.on('input', (msg: AnyMsg) => got.push(msg));
  return got;
}

function statusCalls(node: Node): { fill?: string; text?: string }[] {
  const calls: { fill?: string; text?: string }[] = [];
  (node as unknown as EventEmitter).on(
    'call:status',
    (call: { args: [{ fill?: string; text?: string }] }) => calls.push(call.args[0]),
  );
  return calls;
}

describe('tentacle-pull node', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  /** A buffer holding `files` and a folder for the incoming dir, both removed after the suite. */
  async function bufferAndRoot(...args: Parameters<typeof startBuffer>) {
    const B = await startBuffer(...args);
    const root = tempDir('pull-node-');
    cleanup.push(async () => {
      await B.server.close('test', 100);
      rmSync(B.storage, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    });
    return { B, root };
  }

  /** A pandora-config and a tentacle-pull wired to two collecting helpers. */
  async function loadPull(
    cfg: Record<string, unknown>,
    pullProps: Record<string, unknown>,
    pullModule = pullNode,
  ) {
    const flow = [
      { id: 'cfg', type: 'pandora-config', ...cfg },
      {
        id: 'pull',
        type: 'tentacle-pull',
        config: 'cfg',
        interval: '0',
        ...pullProps,
        wires: [['files'], ['summaries']],
      },
      { id: 'files', type: 'helper' },
      { id: 'summaries', type: 'helper' },
    ];
    await helper.load([pandoraConfig, pullModule], flow);
    return {
      pull: helper.getNode('pull') as Node,
      got: collect(helper.getNode('files') as Node),
      sums: collect(helper.getNode('summaries') as Node),
    };
  }

  it('pulls on a message: one message per file, one summary per buffer, status', async () => {
    const files = dataFiles('node-a', 12);
    const { B, root } = await bufferAndRoot(files);
    const down = await refusedPort();
    const { pull, got, sums } = await loadPull(
      {
        syncAddress: `${B.endpoint.address},127.0.0.1:${down}`,
        incomingDir: join(root, 'data_in'),
        syncTimeout: '2',
        syncRetries: '1',
      },
      {
        deliver: 'both',
        connections: '2',
        safe: 'true',
      },
    );
    const pullErrors = () =>
      helper
        .log()
        .args.filter((a) => a[0].level === 20 && a[0].id === 'pull')
        .map((a) => String(a[0].msg));
    const status = statusCalls(pull);
    pull.receive({ payload: 'go' });
    await waitFor(() => sums.length >= 2 && pullErrors().length >= 1, 20_000, 'round finished');
    assert.equal(got.length, 12);
    for (const m of got) {
      const name = m.filename as string;
      assert.equal(sha1(m.payload as Buffer), sha1(files[name]));
      assert.equal(m.address, B.endpoint.address);
      assert.equal(m.path, join(root, 'data_in', name));
      assert.equal(m.size, files[name].length);
    }
    assert.equal(filesIn(join(root, 'data_in')).size, 12);
    const ok = sums.find((m) => (m.payload as BufferSummary).address === B.endpoint.address);
    assert.equal((ok?.payload as BufferSummary).files, 12);
    const bad = sums.find((m) => (m.payload as BufferSummary).address !== B.endpoint.address);
    assert.match((bad?.payload as BufferSummary).error ?? '', /ECONNREFUSED/);
    // Reported once, through done(err), so a Catch node sees it.
    assert.equal(pullErrors().length, 1);
    assert.match(pullErrors()[0], /ECONNREFUSED/);
    await waitFor(() => status[status.length - 1]?.fill === 'yellow', 5000, 'the yellow status');
    const last = status[status.length - 1];
    assert.equal(last.fill, 'yellow');
    assert.match(last.text ?? '', /12 files/);
    assert.match(last.text ?? '', /1\/2 failing/);

    // A push: msg.filename + msg.payload, one result per buffer on output 2.
    sums.length = 0;
    pull.receive({ filename: 'abc.conf', payload: 'agent_name x\n', address: B.endpoint.address });
    await waitFor(() => sums.length >= 1, 10_000, 'push finished');
    const pushed = sums[0].payload as PushResult;
    assert.equal(pushed.ok, true);
    assert.equal(pushed.filename, 'abc.conf');
  });

  it('TLS without syncCa: a private-CA buffer is refused, the Catch-able error says to set sync_ca', async () => {
    const certs = generateCertificates({ bits: 2048 });
    const files = dataFiles('tls-noca', 3);
    const { B, root } = await bufferAndRoot(files, {
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
    });
    const pem = (name: string, text: string) => {
      writeFileSync(join(root, name), text);
      return join(root, name);
    };
    const { pull, got } = await loadPull(
      {
        syncAddress: B.endpoint.address,
        incomingDir: join(root, 'data_in'),
        syncCert: pem('client-cert.pem', certs.client.cert),
        syncKey: pem('client-key.pem', certs.client.key),
        syncTimeout: '2',
        syncRetries: '1',
      },
      {},
    );
    const pullErrors = () =>
      helper
        .log()
        .args.filter((a) => a[0].level === 20 && a[0].id === 'pull')
        .map((a) => String(a[0].msg));
    pull.receive({ payload: 'go' });
    await waitFor(() => pullErrors().length >= 1, 20_000, 'the round failed');
    assert.match(
      pullErrors()[0],
      /set sync_ca \(syncCa\) to the CA or self-signed certificate that signed the buffer's certificate/,
    );
    assert.equal(got.length, 0);
    assert.equal(readdirSync(B.storage).filter((n) => n.endsWith('.data')).length, 3);
  });

  it('a file larger than maxSize stays on its buffer, warned once with the property to raise', async () => {
    const { B, root } = await bufferAndRoot(
      { 'big.data': Buffer.alloc(2_500_000, 'b'), 'small.data': 'small' },
      { maxSize: 10_000_000 },
    );
    const { pull, got, sums } = await loadPull(
      {
        syncAddress: B.endpoint.address,
        incomingDir: join(root, 'data_in'),
        syncTimeout: '2',
        syncRetries: '1',
      },
      {},
    );
    const warnings = () =>
      helper
        .log()
        .args.filter((a) => a[0].level === 30 && a[0].id === 'pull')
        .map((a) => String(a[0].msg));
    for (let round = 1; round <= 2; round++) {
      pull.receive({ payload: 'go' });
      await waitFor(
        () => sums.filter((m) => m.topic === B.endpoint.address).length === round,
        20_000,
        `round ${round}`,
      );
    }
    assert.deepEqual(
      got.map((m) => m.filename),
      ['small.data'],
    );
    assert.deepEqual(readdirSync(B.storage), ['big.data']);
    assert.equal(warnings().length, 1, warnings().join(' | '));
    assert.match(
      warnings()[0],
      /big\.data .* 2500000 bytes, more than maxSize \(2000000\).*raise maxSize/,
    );
    const notes = sums.filter((m) => m.topic === 'oversized');
    assert.equal(notes.length, 1);
    assert.deepEqual(
      { ...(notes[0].payload as Record<string, unknown>), error: undefined },
      {
        address: B.endpoint.address,
        filename: 'big.data',
        size: 2_500_000,
        maxSize: 2_000_000,
        error: undefined,
      },
    );
    const last = sums.filter((m) => m.topic === B.endpoint.address).pop();
    assert.equal((last?.payload as BufferSummary).oversized, 1);
  });

  it('speaks the runtime language and carries the input message through', async () => {
    const files = dataFiles('node-es', 3);
    const { B, root } = await bufferAndRoot(files);
    const { pull, got, sums } = await loadPull(
      {
        syncAddress: B.endpoint.address,
        incomingDir: join(root, 'data_in'),
      },
      {},
      pullNodeEs,
    );
    const status = statusCalls(pull);
    pull.receive({ payload: 'go', correlation: 'abc-1' } as NodeMessage);
    await waitFor(() => sums.length === 1 && got.length === 3, 20_000, 'the round');
    for (const m of [...got, ...sums]) assert.equal(m.correlation, 'abc-1');
    await waitFor(() => /ficheros/.test(status[status.length - 1]?.text ?? ''), 5000, 'status');
    assert.match(status[status.length - 1].text ?? '', /^1 buffer · 3 ficheros en \d+\.\d s$/);
  });

  it('a bad config or a bad pattern is a node error naming the cause', async () => {
    const root = tempDir('pull-node-bad-');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const flow = [
      { id: 'cfg2', type: 'pandora-config', confFile: join(root, 'missing.conf') },
      { id: 'pull2', type: 'tentacle-pull', config: 'cfg2', interval: 0, wires: [[], []] },
      { id: 'cfg3', type: 'pandora-config', syncAddress: '127.0.0.1' },
      { id: 'pull3', type: 'tentacle-pull', config: 'cfg3', pattern: '(', wires: [[], []] },
    ];
    await helper.load([pandoraConfig, pullNode], flow);
    const errors = helper
      .log()
      .args.filter((a) => a[0].level === 20)
      .map((a) => `${a[0].id} ${String(a[0].msg)}`);
    assert.ok(
      errors.some((e) => e.startsWith('pull2') && e.includes('missing.conf')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.startsWith('pull3') && e.includes('regular expression')),
      errors.join('\n'),
    );
  });
});
