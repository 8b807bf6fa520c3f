/**
 * Child process for the crash test: replicates the queue with a hook that stops between the
 * Instance commit and the dequeue, says so on stdout, and waits to be SIGKILLed.
 */
import { createPool } from '../../lib/db/pool';
import { Replicator } from '../../lib/replicate';

const facts = JSON.parse(process.env.REPLICATE_CC ?? '{}');
const cc = createPool(facts);
const rep = new Replicator(
  { cc, useTables: false },
  {
    afterApply: async (item) => {
      process.stdout.write(`APPLIED ${item.id}\n`);
      await new Promise(() => setInterval(() => {}, 1000));
    },
  },
);
rep.requestRound('test').catch((err: unknown) => {
  process.stderr.write(String(err));
  process.exit(2);
});
