import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeOf, CodedError, reasonOf } from '../../lib/util/errors';
import { plotsDir, renderPlot } from '../../bench/support/plot';

class Special extends Error {}

describe('coded errors', () => {
  it('carry a code and facts, and the message is only those', () => {
    const e = new CodedError('ERR_X', { id: 3, name: 'a' });
    assert.equal(e.code, 'ERR_X');
    assert.deepEqual(e.facts, { id: 3, name: 'a' });
    assert.equal(e.message, 'ERR_X {"id":3,"name":"a"}');
  });

  it('causeOf finds the first of a class along the cause chain, and survives a cycle', () => {
    const inner = new CodedError('ERR_IN');
    const outer = new Error('round', { cause: new Error('wrap', { cause: inner }) });
    assert.equal(causeOf(outer), inner);
    const special = new Special('s');
    assert.equal(causeOf(new Error('w', { cause: special }), Special), special);
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    assert.equal(causeOf(a), null);
  });

  it('reasonOf prefers the server words', () => {
    assert.equal(reasonOf({ sqlMessage: 'Unknown table', message: 'x' }), 'Unknown table');
    assert.equal(reasonOf(new CodedError('ERR_Y', { message: 'gone' })), 'gone');
    assert.equal(reasonOf(new CodedError('ERR_Y')), 'ERR_Y');
    assert.equal(reasonOf({ code: 'ECONNREFUSED' }), 'ECONNREFUSED');
  });
});

describe('bench plots', () => {
  it('draw one curve per series, a goal line, and escape their texts', () => {
    const svg = renderPlot({
      file: 'x.svg',
      title: 'lag <p99>',
      xLabel: 'Instances',
      yLabel: 's',
      series: [
        {
          name: 'package',
          points: [
            [10, 0.2],
            [50, 0.4],
            [100, 0.9],
          ],
        },
        {
          name: 'baseline',
          points: [
            [10, 0.1],
            [100, 0.5],
          ],
        },
      ],
      goal: { value: 2, label: 'goal 2 s' },
    });
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
    assert.match(svg, /stroke-dasharray/);
    assert.match(svg, /lag &lt;p99&gt;/);
  });
});

describe('bench plots directory', () => {
  it('is the repository docs/plots, whether run from dist/ or not', () => {
    const dir = plotsDir();
    assert.ok(dir.endsWith('/docs/plots'), dir);
    assert.ok(!dir.includes('/dist/'), dir);
  });
});
