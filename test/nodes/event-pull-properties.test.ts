/**
 * The editor's validators of event-pull accept exactly what the runtime accepts: a flow that
 * deploys also starts, and one the runtime would refuse cannot be deployed quietly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pullerOptions, type EventPullProps } from '../../nodes/event-pull/properties';
import type { NodeAPI } from 'node-red';
import type { Translate } from '../../nodes/event-pull/status';
import { withCatalogue } from './catalogue';

/** RED._ as the runtime gives it to event-pull (its en-US catalogue). */
function translator(): Translate {
  let t: Translate = (key) => key;
  withCatalogue((red: NodeAPI) => {
    t = (key, values) => red._(key, values);
  }, 'event-pull')({} as NodeAPI);
  return t;
}

type Validate = (v: unknown) => boolean;

/** The `defaults` the editor registers, read from the node's editor file. */
function editorDefaults(): Record<string, { validate?: Validate }> {
  const html = readFileSync(join(__dirname, '../../../nodes/event-pull/event-pull.html'), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'the editor file has its registration script');
  let defaults: Record<string, { validate?: Validate }> = {};
  const RED = {
    nodes: {
      registerType: (_type: string, def: { defaults: typeof defaults }) => {
        defaults = def.defaults;
      },
    },
    validators: { number: () => () => true },
  };
  // The package's shared validators, then the editor's own code, run as the editor runs them
  // (they only define functions and register the type).
  const window: Record<string, unknown> = {};
  const shared = readFileSync(join(__dirname, '../../../resources/validators.js'), 'utf8');
  new Function('window', shared)(window);
  new Function('RED', 'window', script)(RED, window);
  return defaults;
}

const CASES: Record<keyof EventPullProps, unknown[]> = {
  instances: ['', '1', '1,2', ' 1 , 2 ', '1 2', '1,,2', '0', '-1', '1.5', 'a', 'x,1', 3, '1e2'],
  interval: [
    '',
    0,
    '0',
    '0.2',
    0.2,
    10,
    '10',
    ' 5 ',
    -1,
    '-1',
    'x',
    86400,
    86401,
    '1e3',
    'Infinity',
  ],
  batchSize: ['', 1, '1', 0, '0', '1.5', 1.5, 100000, 100001, 'abc', ' 20 '],
  mode: ['', 'all', 'only_validated', ' all ', 'sometimes', 'ALL'],
  writeBack: [true, false, 'true', 'false', ''],
};

describe('event-pull properties: the editor accepts what the runtime accepts', () => {
  const defaults = editorDefaults();
  const t = translator();

  for (const [prop, values] of Object.entries(CASES)) {
    it(prop, () => {
      const validate = defaults[prop]?.validate ?? (() => true);
      for (const v of values) {
        let runtime = true;
        try {
          pullerOptions({ [prop]: v }, t);
        } catch {
          runtime = false;
        }
        assert.equal(
          Boolean(validate.call({}, v)),
          runtime,
          `${prop} = ${JSON.stringify(v)}: editor and runtime disagree (runtime ${runtime ? 'accepts' : 'refuses'})`,
        );
      }
    });
  }

  it('the runtime reads the accepted values as the engine expects', () => {
    assert.deepEqual(
      pullerOptions({ instances: ' 1 , 2 ', interval: '0.2', batchSize: '20', mode: '' }, t),
      { instances: [1, 2], intervalMs: 200, batchSize: 20, mode: 'all', writeBack: false },
    );
  });
});
