/**
 * nodes/shared/properties: a whole-number property is read as lib/util/values reads it, and
 * refused in the words of the node's own catalogue (en-US and es-ES files as shipped).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { integerProperty, type NodeText } from '../../nodes/shared/properties';

const root = join(__dirname, '..', '..', '..');

/** tentacle-buffer's catalogue in `lang`, with i18next's `__name__` substitution. */
function catalogue(lang: string): NodeText {
  const file = join(root, 'nodes', 'tentacle-buffer', 'locales', lang, 'tentacle-buffer.json');
  const texts = (
    JSON.parse(readFileSync(file, 'utf8')) as Record<string, { errors: Record<string, string> }>
  )['tentacle-buffer'];
  return (key, vars) => {
    const text = texts.errors[key.replace(/^errors\./, '')];
    assert.ok(text, `${lang} has ${key}`);
    return text.replace(/__(\w+)__/g, (_, k: string) => String(vars[k]));
  };
}

describe('integerProperty', () => {
  const int = integerProperty(catalogue('en-US'));

  it('reads numbers and numeric strings, and the default when empty', () => {
    assert.equal(int('42', 1, 'port', 1, 65535), 42);
    assert.equal(int(7, 1, 'port', 1, 65535), 7);
    assert.equal(int('', 41121, 'port', 1, 65535), 41121);
    assert.equal(int(undefined, 41121, 'port', 1, 65535), 41121);
  });

  it('refuses a fraction, a word or a value out of range, naming the property and its range', () => {
    assert.throws(
      () => int('1.5', 8, 'connections', 1, 64),
      /^Error: connections must be a whole number from 1 to 64, got "1.5"$/,
    );
    assert.throws(() => int('many', 8, 'connections', 1, 64), /got "many"/);
    assert.throws(() => int(0, 8, 'connections', 1, 64), /from 1 to 64, got 0$/);
    assert.throws(
      () => int(-1, 0, 'quotaBytes', 0, Number.MAX_SAFE_INTEGER),
      /quotaBytes must be a whole number from 0 to ∞, got -1/,
    );
  });

  it('words the refusal in the runtime language', () => {
    const es = integerProperty(catalogue('es-ES'));
    assert.throws(
      () => es('x', 1, 'port', 1, 65535),
      /port debe ser un número entero de 1 a 65535/,
    );
  });
});
