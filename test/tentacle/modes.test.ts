/**
 * File modes (issue 22): what a buffer creates is its own, 0750 directories and 0640 files
 * whatever the umask; files the Sync puller delivers into incomingDir keep following the umask,
 * since Pandora's data server may run as another user.
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SyncPuller } from '../../lib/sync/puller';
import { TentacleClient } from '../../lib/tentacle';
import { removeDir, startServer, tempDir } from './helpers';

const modeOf = (p: string) => statSync(p).mode & 0o777;
const octal = (m: number) => `0${m.toString(8)}`;

describe('modes of what the buffer and the puller create', () => {
  const roots: string[] = [];
  after(async () => {
    for (const r of roots) await removeDir(r);
  });

  for (const umask of [0o002, 0o077]) {
    it(`umask ${octal(umask)}: storage 0750 and files 0640; incomingDir files follow the umask`, async () => {
      const root = await tempDir('modes-');
      roots.push(root);
      const previous = process.umask(umask);
      try {
        const storage = join(root, 'spool', 'data_in');
        const s = await startServer({ storage, filters: '.*\\.conf:conf', overwrite: true });
        try {
          const c = await TentacleClient.connect({ host: '127.0.0.1', port: s.port });
          await c.send('a.data', Buffer.from('<agent_data/>'));
          await c.send('a.data', Buffer.from('<agent_data seq="2"/>'));
          await c.zsend('b.data', Buffer.from('<agent_data/>'));
          await c.send('agent.conf', Buffer.from('agent_name a\n'));
          await c.quit();
          await s.server.put('c.data', Buffer.from('<agent_data/>'));
          for (const d of [join(root, 'spool'), storage, join(storage, 'conf')]) {
            assert.equal(octal(modeOf(d)), '0750', d);
          }
          for (const f of ['a.data', 'b.data', 'c.data', 'conf/agent.conf']) {
            assert.equal(octal(modeOf(join(storage, f))), '0640', f);
          }

          const incoming = join(root, 'incoming');
          const puller = new SyncPuller({
            buffers: [{ host: '127.0.0.1', port: s.port, address: `127.0.0.1:${s.port}` }],
            incomingDir: incoming,
            pattern: /\.data$/,
            timeout: 2,
            retries: 1,
          });
          try {
            const [summary] = await puller.requestRound();
            assert.equal(summary.error, null);
            assert.equal(summary.files, 3);
          } finally {
            await puller.close();
          }
          for (const f of ['a.data', 'b.data', 'c.data']) {
            assert.equal(octal(modeOf(join(incoming, f))), octal(0o644 & ~umask), f);
          }
        } finally {
          await s.server.close('test', 100);
        }
      } finally {
        process.umask(previous);
      }
    });
  }

  it('a storage directory that already exists keeps the mode its administrator gave it', async () => {
    const root = await tempDir('modes-');
    roots.push(root);
    const storage = join(root, 'data_in');
    mkdirSync(storage, { mode: 0o755 });
    const previous = process.umask(0o022);
    try {
      const s = await startServer({ storage, filters: '.*\\.md5:md5' });
      await s.server.close('test', 100);
    } finally {
      process.umask(previous);
    }
    assert.equal(octal(modeOf(storage)), '0755');
    assert.equal(octal(modeOf(join(storage, 'md5'))), '0750', 'a filter directory made here');
  });
});
