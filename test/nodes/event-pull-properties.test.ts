/**
 * The editor's validators of event-pull accept exactly what the runtime accepts: a flow that
 * deploys also starts, and one the runtime would refuse cannot be deployed quietly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  EVENT_PULL_PROPERTIES,
  optionsFromProperties,
  type EventPullProps,
} from '../../lib/events/options';

type Validate = (v: unknown) => boolean;

/** The `defaults` the editor registers, read from the node's editor file. */
function editorDefaults(): Record<string, { validate?: Validate }> {
  const html = readFileSync(join(__dirname, '../../../nodes/event-pull/event-pull.html'), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'the editor file has its registration script');
  let defaults: Record<string, { validate?: Validate }> = {};
  // The settings as the runtime exports them (event-pull.ts registers EVENT_PULL_PROPERTIES).
  const RED = {
    settings: { eventPullProperties: JSON.parse(JSON.stringify(EVENT_PULL_PROPERTIES)) },
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

  for (const [prop, values] of Object.entries(CASES)) {
    it(prop, () => {
      const validate = defaults[prop]?.validate ?? (() => true);
      for (const v of values) {
        let runtime = true;
        try {
          optionsFromProperties({ [prop]: v });
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
      optionsFromProperties({ instances: ' 1 , 2 ', interval: '0.2', batchSize: '20', mode: '' }),
      { instances: [1, 2], intervalMs: 200, batchSize: 20, mode: 'all', writeBack: false },
    );
  });
});
