/**
 * event-pull's status line from the puller's state, worded by the node's own catalogue. With
 * `cluster` on, instances another member works are neither counted nor shown with a lag here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeAPI } from 'node-red';
import type { InstanceStatus } from '../../lib/events';
import { pullerStatus, type Translate } from '../../nodes/event-pull/status';
import { withCatalogue } from './catalogue';

const t = withCatalogue((RED: NodeAPI) => RED._ as Translate, 'event-pull')({} as NodeAPI);

const inst = (id: number, over: Partial<InstanceStatus> = {}): InstanceStatus => ({
  id,
  name: `i${id}`,
  lag: 1,
  down: false,
  ...over,
});

describe('event-pull status', () => {
  it('counts and shows the lag of every instance on a single host', () => {
    const s = pullerStatus({ commandCenter: null, instances: [inst(1), inst(2, { lag: 3 })] }, t);
    assert.equal(s.fill, 'green');
    assert.equal(s.text, '2 inst · lag 1/3 s');
  });

  it('leaves out the instances another cluster member works', () => {
    const s = pullerStatus(
      {
        commandCenter: null,
        instances: [
          inst(1),
          inst(2, { lag: null, elsewhere: true }),
          inst(3, { lag: 2 }),
          inst(4, { elsewhere: true, down: true }),
        ],
      },
      t,
    );
    assert.equal(s.fill, 'green');
    assert.equal(s.text, '2 inst · lag 1/2 s');
  });

  it('shows 0 inst, grey, when every instance is worked elsewhere', () => {
    const s = pullerStatus(
      { commandCenter: null, instances: [inst(1, { elsewhere: true, lag: null })] },
      t,
    );
    assert.equal(s.fill, 'grey');
    assert.equal(s.text, '0 inst');
  });
});
