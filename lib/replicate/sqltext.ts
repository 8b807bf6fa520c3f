/**
 * Undoing the HTML-entity encoding that Pandora's Perl producer applies to the statements it
 * stores in tsync_queue.sql (what a statement writes is decided in statement.ts).
 */
import { HTML401_ENTITIES } from '../util/html401';

// Perl's HTML::Entities knows the HTML 4.01 names and `apos` as well.
const NAMED = new Map<string, number>([...Object.entries(HTML401_ENTITIES), ['apos', 39]]);

/**
 * Pandora's Perl producer (db_synch in PandoraFMS/DB.pm) runs the whole statement through
 * safe_input, which encodes quotes, parentheses, control characters and every byte >= 128 one
 * byte at a time. Such text never holds a raw quote or parenthesis, while any SQL the PHP
 * producer stores (raw) that carries a value does: so the text is decoded exactly once, and only
 * when it holds entities and no raw quote or parenthesis.
 */
export function isEntityEncoded(sql: string): boolean {
  return /&(#[0-9]+|#x[0-9a-f]+|[A-Za-z][A-Za-z0-9]*);/i.test(sql) && !/['"()]/.test(sql);
}

/** One level of entity decoding, bytes < 256 taken as the UTF-8 bytes Perl encoded. */
export function decodeEntities(text: string): string {
  const bytes: number[] = [];
  const pushChar = (code: number): void => {
    if (code < 256) bytes.push(code);
    else for (const b of Buffer.from(String.fromCodePoint(code), 'utf8')) bytes.push(b);
  };
  const re = /&(#[0-9]+|#x[0-9a-f]+|[A-Za-z][A-Za-z0-9]*);/gi;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (const b of Buffer.from(text.slice(last, m.index), 'utf8')) bytes.push(b);
    const ent = m[1];
    let code: number | undefined;
    if (ent[0] === '#') {
      code =
        ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
    } else {
      code = NAMED.get(ent);
    }
    if (code === undefined || !Number.isFinite(code) || code > 0x10ffff) {
      for (const b of Buffer.from(m[0], 'utf8')) bytes.push(b);
    } else {
      pushChar(code);
    }
    last = m.index + m[0].length;
  }
  for (const b of Buffer.from(text.slice(last), 'utf8')) bytes.push(b);
  return Buffer.from(bytes).toString('utf8');
}

/** The statement to run for a stored queue text. */
export function queueSql(stored: string): string {
  return isEntityEncoded(stored) ? decodeEntities(stored) : stored;
}
