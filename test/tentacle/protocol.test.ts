import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  filterDir,
  INVALID_CHARS,
  isValidName,
  parseCommand,
  parseFilters,
  passwordDigest,
  zipBuffer,
} from '../../lib/tentacle';
import { removeDir, tempDir } from './helpers';
import { unzip } from './zip-members';

describe('tentacle protocol helpers', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('password digest matches the reference vector', () => {
    assert.equal(passwordDigest('s3cret'), '703b089710823916d4bb7ff2deff4d8f');
  });

  it('refuses each of the 15 banned characters and allows the rest', () => {
    assert.equal(INVALID_CHARS.length, 15);
    for (const ch of INVALID_CHARS) assert.equal(isValidName(`a${ch}b`), false, ch);
    for (const ok of ['', 'a b', '.hidden', '..', '"|$&%#!', 'ñandú.data', 'cr\r']) {
      assert.equal(isValidName(ok), true, JSON.stringify(ok));
    }
  });

  it('parses commands case-sensitively and keeps CR', () => {
    assert.deepEqual(parseCommand('SEND <a.data> SIZE 12'), {
      cmd: 'SEND',
      name: 'a.data',
      size: 12,
    });
    assert.deepEqual(parseCommand('MV <x\ry>'), { cmd: 'MV', name: 'x\ry' });
    assert.deepEqual(parseCommand('LS <>'), { cmd: 'LS', name: '' });
    assert.equal(parseCommand('QUIT\r'), null);
    assert.equal(parseCommand('send <a> SIZE 1'), null);
    assert.equal(parseCommand('SEND <a> SIZE -1'), null);
    assert.equal(parseCommand('SEND <a> SIZE 1 '), null);
    assert.equal(parseCommand('HELLO'), null);
  });

  it('parses filters: first match wins, unanchored, trailing slash removed, extra fields ignored', () => {
    const f = parseFilters('.*\\.conf:conf/;.*\\.md5:md5:extra;data:dat;broken;:x');
    assert.deepEqual(
      f.map((x) => x.dir),
      ['conf', 'md5', 'dat'],
    );
    assert.equal(filterDir(f, 'agent.conf'), 'conf');
    assert.equal(filterDir(f, 'x.md5'), 'md5');
    assert.equal(filterDir(f, 'mydata.conf'), 'conf');
    assert.equal(filterDir(f, 'mydata.txt'), 'dat');
    assert.equal(filterDir(f, 'other'), '');
    assert.throws(() => parseFilters('(:bad'));
  });

  it('zips and unzips a first member, whatever the chunking; other data passes through', async () => {
    const data = Buffer.concat([Buffer.alloc(70_000, 'a'), Buffer.from('tail\n')]);
    const z = await zipBuffer('var/spool/pandora/x.data', data);
    assert.equal(z.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.equal(z.readUInt16LE(6) & 8, 8, 'flag bit 3');
    assert.equal(z.readUInt16LE(8), 8, 'deflate');
    for (const split of [1, 3, 1000, z.length]) assert.deepEqual(await unzip(z, split), data);
    assert.deepEqual(await unzip(Buffer.from('plain text'), 2), Buffer.from('plain text'));
    assert.deepEqual(await unzip(Buffer.from('PK'), 2), Buffer.from('PK'));
    await assert.rejects(unzip(z.subarray(0, 60), 10));
  });

  it('reads a stored (method 0) member with sizes in the local header', async () => {
    // A minimal archive as `zip -0` writes it.
    const body = Buffer.from('stored body');
    const { crc32 } = await import('../../lib/tentacle/crc32');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(10, 4);
    h.writeUInt32LE(crc32(body), 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(body.length, 22);
    h.writeUInt16LE(1, 26);
    const z = Buffer.concat([h, Buffer.from('x'), body, Buffer.from('PK\x01\x02junk')]);
    assert.deepEqual(await unzip(z, 4), body);
  });

  it(
    'writes archives the system unzip accepts',
    { skip: !existsSync('/usr/bin/unzip') },
    async () => {
      const dir = await tempDir();
      dirs.push(dir);
      const p = join(dir, 'a.zip');
      await writeFile(
        p,
        await zipBuffer('/var/spool/pandora/data_in/a.data', Buffer.alloc(5000, 'z')),
      );
      const out = execFileSync('/usr/bin/unzip', ['-t', p]).toString();
      assert.match(out, /No errors detected/);
    },
  );

  it(
    'unzips an archive written by the system zip',
    { skip: !existsSync('/usr/bin/zip') },
    async () => {
      const dir = await tempDir();
      dirs.push(dir);
      await writeFile(join(dir, 'm.txt'), 'member one\n'.repeat(100));
      execFileSync('/usr/bin/zip', ['-q', '-fd', join(dir, 'm.zip'), 'm.txt'], { cwd: dir });
      const { readFile } = await import('node:fs/promises');
      const z = await readFile(join(dir, 'm.zip'));
      assert.equal((await unzip(z, 7)).toString(), 'member one\n'.repeat(100));
    },
  );
});
