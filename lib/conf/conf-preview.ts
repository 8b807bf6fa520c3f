/**
 * What the editor's "Show" button may learn of a file on the Node-RED host: the values of the
 * pandora_server.conf tokens pandora-config uses (`dbpass` only as set or not), and nothing else.
 * The caller names any path, so a file is refused, with no byte of it in the error, unless it is
 * a regular file of at most MAX_CONF_BYTES whose every line is a comment or a `token value` pair
 * and which sets at least one of those tokens.
 */
import { isAbsolute } from 'node:path';
import { CONF_TOKENS, parsePandoraConf, readConfBytes } from './pandora-conf';

/** Longer than any path Linux opens (PATH_MAX). */
const MAX_PATH_CHARS = 4096;

/** A Config.pm token: letters, digits, `_`, `.`, `-`, starting with a letter. */
const TOKEN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export type ConfPreviewProblem = 'no-path' | 'bad-path' | 'not-conf';

/** A refusal of the preview that is about the request, not about reading the file. */
export class ConfPreviewError extends Error {
  constructor(
    readonly code: ConfPreviewProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface ConfPreview {
  /** The used tokens the file sets, with their values; `dbpass` is `(set)`. */
  tokens: Record<string, string>;
}

/** Checks the path a request carries: a non-empty absolute path without NUL. */
export function previewPath(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfPreviewError('no-path', 'no path given');
  }
  const path = value.trim();
  if (path.length > MAX_PATH_CHARS || path.includes('\0') || !isAbsolute(path)) {
    throw new ConfPreviewError(
      'bad-path',
      'give the absolute path of a pandora_server.conf on the Node-RED host',
    );
  }
  return path;
}

/** Whether `bytes` read as a pandora_server.conf that sets at least one used token. */
export function looksLikePandoraConf(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  let used = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const token = /^\S+/.exec(line)?.[0] ?? '';
    if (!TOKEN.test(token)) return false;
    if (Object.prototype.hasOwnProperty.call(CONF_TOKENS, token)) used++;
  }
  return used > 0;
}

/** The preview of a conf file; throws ConfPreviewError or ConfFileError, never with content. */
export async function previewPandoraConf(value: unknown): Promise<ConfPreview> {
  const path = previewPath(value);
  const bytes = await readConfBytes(path);
  if (!looksLikePandoraConf(bytes)) {
    throw new ConfPreviewError(
      'not-conf',
      `"${path}" does not look like a pandora_server.conf (comment and "token value" lines, ` +
        `setting at least one of ${Object.keys(CONF_TOKENS).join(', ')})`,
    );
  }
  const parsed = parsePandoraConf(bytes.toString('utf8'));
  const tokens: Record<string, string> = {};
  for (const token of Object.keys(CONF_TOKENS)) {
    if (!Object.prototype.hasOwnProperty.call(parsed.tokens, token)) continue;
    tokens[token] = token === 'dbpass' ? '(set)' : parsed.tokens[token];
  }
  return { tokens };
}
