/**
 * Reading the statements Pandora stores in tsync_queue.sql: one statement only, which table it
 * writes, and undoing the HTML-entity encoding of the Perl producer.
 */

const VERB =
  /^\s*(INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+IGNORE)?|DELETE\s+FROM)\s+`?([A-Za-z0-9_]+)`?(\s*\.)?/i;

export interface ParsedStatement {
  sql: string;
  verb: 'INSERT' | 'REPLACE' | 'UPDATE' | 'DELETE';
  table: string;
}

/**
 * Finds the end of the statement, skipping string literals ('…', "…", `…` with backslash
 * escapes and doubled quotes) and comments. Returns the statement without a final `;`, or an
 * error when more SQL follows a `;`.
 */
export function singleStatement(sql: string): { sql: string } | { error: string } {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < n) {
        if (sql[i] === '\\' && c !== '`') {
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      if (i >= n) return { error: `unterminated ${c} literal` };
      i++;
      continue;
    }
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' '))) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return { error: 'unterminated /* comment' };
      i = end + 2;
      continue;
    }
    if (c === ';') {
      const rest = stripComments(sql.slice(i + 1)).trim();
      if (rest.replace(/;/g, '').trim().length > 0) {
        return {
          error: 'more than one statement (a ";" outside string literals is followed by more SQL)',
        };
      }
      return { sql: sql.slice(0, i).trim() };
    }
    i++;
  }
  return { sql: sql.trim() };
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|\n)\s*(#|--\s)[^\n]*/g, '\n');
}

/** The verb and target table of a single INSERT / REPLACE / UPDATE / DELETE. */
export function parseStatement(sql: string): ParsedStatement | { error: string } {
  const one = singleStatement(sql);
  if ('error' in one) return one;
  const m = VERB.exec(one.sql);
  if (!m) return { error: 'not an INSERT, REPLACE, UPDATE or DELETE statement' };
  if (m[3]) return { error: 'a table qualified with a database name is not accepted' };
  const verb = m[1].toUpperCase().split(/\s+/)[0] as ParsedStatement['verb'];
  return { sql: one.sql, verb, table: m[2].toLowerCase() };
}

const LATIN1 =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(
    ' ',
  );
const NAMED = new Map<string, number>([
  ['quot', 34],
  ['amp', 38],
  ['apos', 39],
  ['lt', 60],
  ['gt', 62],
  ...LATIN1.map((name, i) => [name, 160 + i] as [string, number]),
]);

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
