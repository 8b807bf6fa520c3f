/**
 * Property values as the nodes receive them from a flow: a junk boolean is a clear node error,
 * not a silent default.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import tentacleBufferModule from '../../nodes/tentacle-buffer/tentacle-buffer';
import { freePort } from '../helpers/mariadb';
import { waitFor } from '../helpers/wait';
import helper from '../helpers/red-helper';
import { withCatalogue } from './catalogue';

// The helper's RED._ returns keys; the error is read as the runtime words it.
const tentacleBuffer = withCatalogue(tentacleBufferModule, 'tentacle-buffer');

describe('node properties', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pandora-sync-props-'));
  before(() => new Promise<void>((resolve) => helper.startServer(resolve)));
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a tentacle-buffer with overwrite "yes please" does not start and says why', async () => {
    const flow = [
      {
        id: 'buf',
        type: 'tentacle-buffer',
        address: '127.0.0.1',
        port: await freePort(),
        storage: join(dir, 'data_in'),
        overwrite: 'yes please',
      },
    ];
    await helper.load(tentacleBuffer, flow);
    const errors = () =>
      helper
        .log()
        .args.filter(([e]) => e.level === 20 && e.id === 'buf')
        .map(([e]) => String(e.msg));
    await waitFor(() => errors().length > 0, 10_000, 'the node error');
    assert.match(errors().join('\n'), /overwrite must be true or false, got "yes please"/);
  });
});
