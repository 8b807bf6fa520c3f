/**
 * Pandora's console stores every text it is given HTML-entity encoded (io_safe_input) and shows it
 * decoded (io_safe_output). Names read from an Instance go through `ioSafeOutput` so that they
 * read as the console shows them; filters go through `ioSafeInput` so that they match what the
 * console stored.
 */
import { HTML401_ENTITIES } from '../util/html401';

const NAMED = new Map<string, number>(Object.entries(HTML401_ENTITIES));
const BY_CODE = new Map<number, string>(
  Object.entries(HTML401_ENTITIES).map(([name, code]) => [code, name]),
);

/**
 * Code points PHP's html_entity_decode turns a numeric reference into, for HTML 4.01: others
 * (C0/C1 controls, surrogates, non-characters, beyond U+10FFFF) stay as written.
 */
function decodable(cp: number): boolean {
  return (
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x09 ||
    cp === 0x0a ||
    cp === 0x0d ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0x10ffff && (cp & 0xffff) < 0xfffe && (cp < 0xfdd0 || cp > 0xfdef))
  );
}

const REFERENCE = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*));/g;

/** PHP's html_entity_decode($s, ENT_QUOTES, 'UTF-8'): one pass, HTML 4.01 names (no &apos;). */
export function htmlEntityDecode(text: string): string {
  return text.replace(REFERENCE, (whole, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) {
      const cp = NAMED.get(name);
      return cp === undefined ? whole : String.fromCodePoint(cp);
    }
    const digits = dec ?? hex ?? '';
    // Longer than any valid code point: leave it as written instead of overflowing.
    if (digits.replace(/^0+/, '').length > 8) return whole;
    const cp = parseInt(digits, dec !== undefined ? 10 : 16);
    return decodable(cp) ? String.fromCodePoint(cp) : whole;
  });
}

/**
 * io_safe_output: the text as Pandora's console shows it. Non-strings are returned as given.
 * The console first replaces &#40; &#41; &lt; &gt; and then decodes every reference; the
 * characters those four give cannot start or end a reference, so one decoding pass gives the
 * same text.
 */
export function ioSafeOutput<T>(value: T): T | string {
  if (typeof value !== 'string' || !value.includes('&')) return value;
  return htmlEntityDecode(value);
}

/** PHP's htmlentities($s, ENT_QUOTES, 'UTF-8', true) with the HTML 4.01 table. */
function htmlEntities(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === "'") out += '&#039;';
    else {
      const name = BY_CODE.get(cp);
      out += name === undefined ? ch : `&${name};`;
    }
  }
  return out;
}

/** io_safe_input: the text as Pandora's console stores it. Numeric strings are stored as given. */
export function ioSafeInput(text: string): string {
  if (text === '' || text === '0' || isNumeric(text)) return text;
  const s = htmlEntities(text)
    .split('\\')
    .join('&#92;')
    .split('/*')
    .join('&#47;&#42;')
    .split('*/')
    .join('&#42;&#47;')
    .split('(')
    .join('&#40;')
    .split(')')
    .join('&#41;')
    .split('&ordm;')
    .join('&#xba;')
    .split('&deg;')
    .join('&#176;')
    .split('&iquest;')
    .join('¿')
    .split('&iexcl;')
    .join('¡')
    .split('&euro;')
    .join('€');
  // Control characters and the space, as io_ascii_to_html writes them.
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    out += code <= 0x20 ? `&#x${code.toString(16).padStart(2, '0')};` : ch;
  }
  return out;
}

/** PHP's is_numeric for a string: optional sign, digits with optional fraction and exponent. */
function isNumeric(text: string): boolean {
  return /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(text);
}
