/**
 * Pandora's own Perl `tentacle_client` (Debian's pandorafms-agent package, unchanged, fetched by
 * .ci/run into a cache folder outside the repository) sending to and fetching from our buffer, as
 * agents in an isolated network do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TentacleServer, type TentacleServerOptions } from '../../lib/tentacle';

const STOCK_CLIENT =
  process.env.PANDORA_TENTACLE_CLIENT ?? '/var/cache/pandora-sync-interop/usr/bin/tentacle_client';

interface Run {
  code: number;
  stderr: string;
}

/** Runs the stock client; never rejects, so a test can assert on its exit code and message. */
function client(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) =>
    execFile('perl', [STOCK_CLIENT, ...args], { cwd, timeout: 30_000 }, (err, _out, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stderr: String(stderr).trim() }),
    ),
  );
}

describe("Pandora's stock tentacle_client against our buffer", () => {
  let work: string;
  const servers: TentacleServer[] = [];

  async function buffer(opts: Partial<TentacleServerOptions> = {}) {
    const storage = mkdtempSync(join(work, 'storage-'));
    const server = new TentacleServer({
      address: '127.0.0.1',
      port: 0,
      storage,
      filters: '.*\\.conf:conf;.*\\.md5:md5;.*\\.zip:collections',
      ...opts,
    });
    servers.push(server);
    const { port } = await server.listen();
    return { storage, args: ['-a', '127.0.0.1', '-p', String(port)] };
  }

  before(() => {
    if (!existsSync(STOCK_CLIENT)) {
      throw new Error(
        `${STOCK_CLIENT} is missing: .ci/run fetches Debian's pandorafms-agent package for it ` +
          '(or set PANDORA_TENTACLE_CLIENT to a tentacle_client)',
      );
    }
    work = mkdtempSync(join(tmpdir(), 'pandora-sync-stock-'));
    writeFileSync(join(work, 'web-01.1.data'), '<agent_data agent_name="web-01"/>');
    writeFileSync(join(work, 'bin.data'), randomBytes(300_000));
    writeFileSync(join(work, 'd41d8cd98f00b204e9800998ecf8427e.conf'), 'agent_name web-01\n');
  });
  after(async () => {
    for (const s of servers) await s.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sends several files over one connection, routed by the stock filters', async () => {
    const b = await buffer();
    const r = await client(
      [...b.args, 'web-01.1.data', 'bin.data', 'd41d8cd98f00b204e9800998ecf8427e.conf'],
      work,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(b.storage).sort(), [
      'bin.data',
      'collections',
      'conf',
      'md5',
      'web-01.1.data',
    ]);
    assert.deepEqual(readdirSync(join(b.storage, 'conf')), [
      'd41d8cd98f00b204e9800998ecf8427e.conf',
    ]);
    assert.ok(
      readFileSync(join(b.storage, 'bin.data')).equals(readFileSync(join(work, 'bin.data'))),
    );
  });

  it('is told "file already exists" without -o, and overwrites with it', async () => {
    const b = await buffer();
    assert.equal((await client([...b.args, 'web-01.1.data'], work)).code, 0);
    const again = await client([...b.args, 'web-01.1.data'], work);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Server responded SEND ERR \(file already exists\)/);
    const o = await buffer({ overwrite: true });
    assert.equal((await client([...o.args, 'web-01.1.data'], work)).code, 0);
    assert.equal((await client([...o.args, 'web-01.1.data'], work)).code, 0);
  });

  it('gets files with -g (RECV), byte for byte, and is told when one does not exist', async () => {
    const b = await buffer();
    assert.equal((await client([...b.args, 'bin.data'], work)).code, 0);
    const get = mkdtempSync(join(work, 'get-'));
    const r = await client([...b.args, '-g', 'bin.data'], get);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(get, 'bin.data')).equals(readFileSync(join(work, 'bin.data'))));
    const missing = await client([...b.args, '-g', 'nope.data'], get);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /RECV ERR \(file does not exist\)/);
  });

  it('authenticates with -x, and a wrong password stores nothing', async () => {
    const b = await buffer({ password: 's3cret' });
    const ok = await client([...b.args, '-x', 's3cret', 'web-01.1.data'], work);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await client([...b.args, '-x', 'guess', 'bin.data'], work);
    assert.equal(wrong.code, 1);
    assert.deepEqual(
      readdirSync(b.storage).filter((n) => n.endsWith('.data')),
      ['web-01.1.data'],
    );
  });

  it('is refused "file is too big" past -m, and the next file of the run is not sent', async () => {
    const b = await buffer({ maxSize: 1000 });
    const r = await client([...b.args, 'bin.data', 'web-01.1.data'], work);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SEND ERR \(file is too big\)/);
    assert.deepEqual(
      readdirSync(b.storage).filter((n) => n.endsWith('.data')),
      [],
    );
  });
});
