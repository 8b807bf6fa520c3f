import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceIds, optionFacts, resolveNumbers } from '../../lib/util/options';

class Refused extends Error {
  constructor(readonly facts: ReturnType<typeof optionFacts>) {
    super('refused');
  }
}
const refuse = (name: string, value: unknown, min: number, max?: number) =>
  new Refused(optionFacts(name, value, min, max));

describe('engine options, the shared mechanism', () => {
  it('applies numeric defaults field by field and keeps the other defaults', () => {
    const out = resolveNumbers({ a: 5, b: 0, tag: 'x' }, { a: 1, b: 0 }, { b: 7 }, refuse);
    assert.deepEqual(out, { a: 5, b: 7, tag: 'x' });
  });

  it('refuses a value below its minimum or not a finite number, with the facts', () => {
    assert.throws(
      () => resolveNumbers({ a: 5 }, { a: 1 }, { a: 0 }, refuse),
      (e: Refused) => e.facts.name === 'a' && e.facts.value === 0 && e.facts.min === 1,
    );
    assert.throws(
      () => resolveNumbers({ a: 5 }, { a: 1 }, { a: '3' }, refuse),
      (e: Refused) => e.facts.value === '"3"',
    );
    assert.throws(() => resolveNumbers({ a: 5 }, { a: 1 }, { a: Infinity }, refuse), Refused);
  });

  it('reads the instances property as whole ids from 1, and names a bad one', () => {
    assert.deepEqual(instanceIds('1, 2,3', refuse), [1, 2, 3]);
    assert.deepEqual(instanceIds([4, '5'], refuse), [4, 5]);
    assert.deepEqual(instanceIds('', refuse), []);
    assert.throws(
      () => instanceIds('1,0', refuse),
      (e: Refused) => e.facts.name === 'instances' && e.facts.min === 1,
    );
  });
});
