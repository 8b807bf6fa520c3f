/**
 * Undoing the HTML-entity encoding that Pandora's Perl producer applies to the statements it
 * stores in tsync_queue.sql (what a statement writes is decided in statement.ts).
 */

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
