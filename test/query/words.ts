/**
 * The engine's coded errors in the words the node gives them (its en-US catalogue), so that the
 * engine's tests check what an administrator reads.
 */
import { errorText } from '../../nodes/instance-query/status';
import { CodedError } from '../../lib/util/errors';
import { catalogue } from '../nodes/catalogue';

const t = catalogue('instance-query');

/** A coded error (or null) as the node words it; anything else as it is. */
export function said(err: unknown): string | null {
  if (err === null || err === undefined) return null;
  return err instanceof CodedError
    ? errorText(err, (k, v) => t(k, v))
    : String((err as Error).message ?? err);
}

/** For assert.rejects: the error, worded, matches `re`. */
export const saying =
  (re: RegExp) =>
  (err: unknown): boolean => {
    const text = said(err) ?? '';
    if (!re.test(text)) throw new Error(`${text} does not match ${re}`);
    return true;
  };
