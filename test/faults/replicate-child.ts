/**
 * A replicator process for the crash and database-fault tests: rounds of the tsync_queue source
 * (every object) and of the table source (the objects in REPLICATE_OBJECTS) back to back until
 * the test kills it. Facts of the Command Center database come in REPLICATE_CC as JSON. It says
 * `started` once, and prints each round's errors on stderr.
 */
import { createPool } from '../../lib/db/pool';
import type { ObjectKind } from '../../lib/replicate/tables';
import { Replicator } from '../../lib/replicate';

const facts = JSON.parse(process.env.REPLICATE_CC ?? '{}');
const objects = (process.env.REPLICATE_OBJECTS ?? 'tags,categories,profiles,users').split(
  ',',
) as ObjectKind[];
const cc = createPool(facts);
const queue = new Replicator({
  cc,
  useTables: false,
  queueBatch: Number(process.env.REPLICATE_BATCH) || 20,
  backoffBaseMs: 10,
  backoffMaxMs: 200,
});
const tables = new Replicator({ cc, useQueue: false, objects, chunkSize: 50 });

async function main(): Promise<void> {
  process.stdout.write('started\n');
  for (;;) {
    for (const rep of [queue, tables]) {
      try {
        const reports = await rep.requestRound('test');
        for (const r of reports) {
          if (r.errors.length)
            process.stderr.write(`${r.errors.map((e) => e.message).join('; ')}\n`);
        }
      } catch (err) {
        process.stderr.write(`round: ${String(err)}\n`);
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

void main();
