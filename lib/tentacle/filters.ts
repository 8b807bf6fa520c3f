/**
 * tentacle_server's `-i` filters: `regex:dir;regex:dir`. Each regex is unanchored and tested
 * against the base name; the first match chooses the subdirectory of the storage.
 */
import { TentacleError } from './errors';

export interface TentacleFilter {
  regex: RegExp;
  dir: string;
}

/** Parses a `-i` spec (a regex that does not compile: ERR_FILTERS); pieces without both a regex and a directory are skipped, extra fields ignored. */
export function parseFilters(spec: string | undefined): TentacleFilter[] {
  const out: TentacleFilter[] = [];
  if (!spec) return out;
  for (const piece of spec.split(';')) {
    const [source, rawDir] = piece.split(':');
    if (!source || !rawDir) continue;
    const dir = rawDir.endsWith('/') ? rawDir.slice(0, -1) : rawDir;
    if (!dir) continue;
    let regex: RegExp;
    try {
      regex = new RegExp(source);
    } catch (err) {
      throw new TentacleError(
        'ERR_FILTERS',
        { value: piece, message: (err as Error).message },
        { cause: err },
      );
    }
    out.push({ regex, dir });
  }
  return out;
}

/** The filter directory for `name` ('' = the storage root). */
export function filterDir(filters: readonly TentacleFilter[], name: string): string {
  for (const f of filters) if (f.regex.test(name)) return f.dir;
  return '';
}
