/**
 * The engine's coded failures in the node's en-US words (its catalogue, as the runtime would word
 * them), so the tests read the failures an administrator reads.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReplicateError } from '../../lib/replicate';

const catalogue = JSON.parse(
  readFileSync(
    join(
      resolve(__dirname, '../../..'),
      'nodes/metaconsole-replicate/locales/en-US/metaconsole-replicate.json',
    ),
    'utf8',
  ),
) as { 'metaconsole-replicate': { errors: Record<string, string> } };

/** `err` worded as the en-US catalogue words it. */
export function words(err: ReplicateError): string {
  const text = catalogue['metaconsole-replicate'].errors[err.code];
  if (text === undefined) throw new Error(`no en-US words for ${err.code}`);
  return text.replace(/__(\w+)__/g, (_, k: string) => String(err.facts[k] ?? ''));
}

/** A report's failures, worded and joined as the node joins them. */
export function wordsOf(errors: readonly ReplicateError[]): string[] {
  return errors.map(words);
}
