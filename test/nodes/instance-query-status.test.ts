/**
 * instance-query's status in the real node-red, with the packed package installed: the counts
 * and the slowest time filled into the text of the runtime's language (the status node reports
 * the texts a user sees). Only en-US here: test/helpers/node-red.ts waits for the English
 * "Started flows" line, which a Spanish runtime writes as "Flujos iniciados".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCommandCenter } from '../events/fixtures/pandora';
import { PrivateMariaDb, startMariaDb } from '../helpers/mariadb';
import { startNodeRed, type RunningNodeRed } from '../helpers/node-red';
import { waitFor } from '../helpers/wait';
import { createInstance } from '../query/fixtures/pandora';

describe('instance-query status in node-red', () => {
  let db: PrivateMariaDb;
  let nr: RunningNodeRed | undefined;

  before(async () => {
    db = await startMariaDb();
    await Promise.all([createInstance(db, 'sa', 1), createInstance(db, 'sb', 2)]);
    await createCommandCenter(db, 'scc', [
      { id: 1, name: 'alpha', port: db.port, dbname: 'sa' },
      { id: 2, name: 'beta', port: db.port, dbname: 'sb' },
    ]);
  });
  after(async () => {
    await nr?.stop();
    await db?.destroy();
  });

  const flows = () => [
    { id: 'a1b2c3d4e5f60718', type: 'tab', label: 'status' },
    {
      id: 'b1c2d3e4f5a60718',
      type: 'pandora-config',
      dbHost: db.host,
      dbPort: String(db.port),
      dbName: 'scc',
      dbUser: db.user,
    },
    {
      id: 'c1d2e3f4a5b60718',
      type: 'inject',
      z: 'a1b2c3d4e5f60718',
      once: true,
      onceDelay: 0.5,
      topic: '',
      payload: '',
      payloadType: 'str',
      props: [{ p: 'payload' }],
      wires: [['d1e2f3a4b5c60718']],
    },
    {
      id: 'd1e2f3a4b5c60718',
      type: 'instance-query',
      z: 'a1b2c3d4e5f60718',
      config: 'b1c2d3e4f5a60718',
      instances: '',
      query: 'tactical',
      timeout: '10',
      limit: '1000',
      wires: [[]],
    },
    {
      id: 'e1f2a3b4c5d60718',
      type: 'status',
      z: 'a1b2c3d4e5f60718',
      scope: ['d1e2f3a4b5c60718'],
      wires: [['f1a2b3c4d5e60718']],
    },
    {
      id: 'f1a2b3c4d5e60718',
      type: 'debug',
      z: 'a1b2c3d4e5f60718',
      active: true,
      tosidebar: false,
      console: true,
      complete: 'status.text',
      targetType: 'msg',
      wires: [],
    },
  ];

  for (const [lang, text] of [['en-US', /2\/2 answered · slowest \d+\.\d s/]] as const) {
    it(`shows the answer in ${lang}`, async () => {
      await nr?.stop();
      nr = await startNodeRed({ flows: flows(), settings: { lang } });
      const running = nr;
      await waitFor(() => text.test(running.output()), 30_000, `the ${lang} status text`);
      assert.doesNotMatch(running.output(), /instance-query\.status\./);
    });
  }
});
