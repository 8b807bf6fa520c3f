/**
 * What a tsync_queue statement writes, decided by a real SQL parser (node-sql-parser, MariaDB
 * dialect) instead of a regular expression that reads only the first words: a regex takes
 * `UPDATE tgrupo, tusuario SET tusuario.…` for a write of tgrupo. A statement is accepted only
 * when it is exactly one INSERT, REPLACE, UPDATE or DELETE whose every table reference, column
 * qualifier and sub-select names the one table it writes, with no database qualifier and no call
 * but of harmless built-in functions (a stored routine could write any table; LOAD_FILE, SLEEP
 * or NEXTVAL read files, hold the node or write sequences). Whatever the parser cannot read is
 * refused, never run blindly.
 *
 * The text MariaDB runs is the text given here, not the parser's rewrite of it, so the parts
 * where the server and the parser could read one text two ways are refused before parsing:
 * comments (MariaDB executes `/*! … *\/`, which a parser skips), control bytes outside literals
 * and more than one statement. The queue connection also clears the sql_mode flags that change
 * how literals are read (see safeSqlMode).
 */
import { Parser } from 'node-sql-parser/build/mariadb';

export type Verb = 'INSERT' | 'REPLACE' | 'UPDATE' | 'DELETE';

export interface ParsedStatement {
  /** The statement to run: the given text without its final `;`. */
  sql: string;
  verb: Verb;
  /** The one table it writes, lower case. */
  table: string;
}

export type Refusal = { error: string };

/**
 * Built-ins that only compute a value from their arguments (or the clock): nothing else may be
 * called, because an unknown name is a stored function or a loadable UDF that can do anything.
 */
const HARMLESS_FUNCTIONS = new Set(
  `ABS ACOS ADDDATE ADDTIME ASCII ASIN ATAN ATAN2 AVG BIN BIT_AND BIT_COUNT BIT_LENGTH BIT_OR
  BIT_XOR CEIL CEILING CHAR CHAR_LENGTH CHARACTER_LENGTH CHR COALESCE CONCAT CONCAT_WS CONV
  CONVERT COS COT COUNT CRC32 CURDATE CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURTIME DATE
  DATE_ADD DATE_FORMAT DATE_SUB DATEDIFF DAY DAYNAME DAYOFMONTH DAYOFWEEK DAYOFYEAR DEGREES ELT
  EXP EXPORT_SET EXTRACT FIELD FIND_IN_SET FLOOR FORMAT FROM_BASE64 FROM_DAYS FROM_UNIXTIME
  GREATEST GROUP_CONCAT HEX HOUR IF IFNULL INET_ATON INET_NTOA INSERT INSTR ISNULL JSON_ARRAY
  JSON_CONTAINS JSON_EXTRACT JSON_INSERT JSON_LENGTH JSON_MERGE JSON_OBJECT JSON_QUOTE
  JSON_REMOVE JSON_REPLACE JSON_SET JSON_UNQUOTE JSON_VALID LAST_DAY LCASE LEAST LEFT LENGTH LN
  LOCALTIME LOCALTIMESTAMP LOCATE LOG LOG10 LOG2 LOWER LPAD LTRIM MAKE_SET MAKEDATE MAKETIME MAX
  MD5 MICROSECOND MID MIN MINUTE MOD MONTH MONTHNAME NOW NULLIF NVL OCT OCTET_LENGTH ORD
  PERIOD_ADD PERIOD_DIFF PI POSITION POW POWER QUARTER QUOTE RADIANS RAND REGEXP_INSTR
  REGEXP_REPLACE REGEXP_SUBSTR REPEAT REPLACE REVERSE RIGHT ROUND RPAD RTRIM SEC_TO_TIME SECOND
  SHA SHA1 SHA2 SIGN SIN SOUNDEX SPACE SQRT STR_TO_DATE STRCMP SUBDATE SUBSTR SUBSTRING
  SUBSTRING_INDEX SUBTIME SUM SYSDATE TAN TIME TIME_FORMAT TIME_TO_SEC TIMEDIFF TIMESTAMP
  TIMESTAMPADD TIMESTAMPDIFF TO_BASE64 TO_DAYS TO_SECONDS TRIM TRUNCATE UCASE UNHEX
  UNIX_TIMESTAMP UPPER UTC_DATE UTC_TIME UTC_TIMESTAMP UUID VALUE VALUES WEEK WEEKDAY WEEKOFYEAR YEAR
  YEARWEEK`.split(/\s+/),
);

const VERBS: Record<string, Verb> = {
  insert: 'INSERT',
  replace: 'REPLACE',
  update: 'UPDATE',
  delete: 'DELETE',
};

/** The first words, read without the parser: the two readings must name the same table. */
const HEAD =
  /^\s*(?:INSERT(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*(?:\s+INTO)?|REPLACE(?:\s+(?:LOW_PRIORITY|DELAYED))*(?:\s+INTO)?|UPDATE(?:\s+(?:LOW_PRIORITY|IGNORE))*|DELETE(?:\s+(?:LOW_PRIORITY|QUICK|IGNORE))*\s+FROM)\s+`?([A-Za-z0-9_$]+)`?/i;

let parser: Parser | undefined;

/**
 * The statement without a final `;`, or why it is refused: a second statement, a comment, a
 * control byte outside a literal, or an unterminated literal. Literals follow MariaDB's default
 * reading ('…' and "…" with backslash escapes and doubled quotes, `…` with doubled backticks).
 */
export function singleStatement(sql: string): { sql: string } | Refusal {
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
    if (c === '#' || (c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '*')) {
      return { error: 'it holds a comment (MariaDB runs the text of /*! … */ comments)' };
    }
    if (c === ';') {
      if (sql.slice(i + 1).trim().length > 0) {
        return {
          error: 'more than one statement (a ";" outside string literals is followed by more)',
        };
      }
      return { sql: sql.slice(0, i).trim() };
    }
    const code = c.charCodeAt(0);
    if ((code < 32 && c !== '\t' && c !== '\n' && c !== '\r') || code === 127) {
      return { error: `a control character (code ${code}) outside a string literal` };
    }
    i++;
  }
  return { sql: sql.trim() };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lower(v: unknown): string | null {
  return typeof v === 'string' ? v.toLowerCase() : null;
}

/** The written table of the top-level statement, or null when it is not exactly one. */
function writtenTable(ast: Record<string, unknown>): Record<string, unknown> | null {
  const list = ast.type === 'delete' ? ast.from : ast.table;
  if (!Array.isArray(list) || list.length !== 1 || !isRecord(list[0])) return null;
  return list[0];
}

/** The name of a called function as MariaDB resolves it, or why the call is refused. */
function calledName(node: Record<string, unknown>): string | Refusal {
  if (typeof node.name === 'string') return node.name.toUpperCase();
  const name = node.name;
  if (!isRecord(name) || !Array.isArray(name.name) || name.name.length !== 1) {
    return { error: 'a function call the check cannot name' };
  }
  if (name.schema !== undefined && name.schema !== null) {
    return { error: 'it calls a function of a named database' };
  }
  const part = name.name[0];
  if (!isRecord(part) || typeof part.value !== 'string') {
    return { error: 'a function call the check cannot name' };
  }
  // A quoted name is never a built-in: MariaDB looks it up as a stored function.
  if (part.type === 'backticks_quote_string') return { error: `it calls \`${part.value}\`()` };
  return part.value.toUpperCase();
}

/**
 * Walks the whole tree: every table reference must be the written table, every qualifier the
 * table or its alias, every call a harmless built-in, and no SELECT may write INTO anything.
 */
function checkTree(node: unknown, table: string, aliases: Set<string>): Refusal | null {
  if (Array.isArray(node)) {
    for (const item of node) {
      const bad = checkTree(item, table, aliases);
      if (bad) return bad;
    }
    return null;
  }
  if (!isRecord(node)) return null;
  if (node.db !== undefined && node.db !== null) {
    return { error: `it names the database ${String(node.db)}` };
  }
  const ref = lower(node.table);
  if (ref !== null) {
    // A FROM/INTO/JOIN item (it has `db`) must be the table itself; a qualifier may be an alias.
    const allowed = 'db' in node ? ref === table : ref === table || aliases.has(ref);
    if (!allowed) return { error: `it reads or writes ${node.table as string} besides ${table}` };
  }
  if (Array.isArray(node.tableList)) {
    for (const entry of node.tableList) {
      const [, db, name] = String(entry).split('::');
      if (db !== 'null') return { error: `it names the database ${db}` };
      if (name.toLowerCase() !== table)
        return { error: `it reads or writes ${name} besides ${table}` };
    }
  }
  if (node.type === 'function' || node.type === 'aggr_func') {
    const name = calledName(node);
    if (typeof name !== 'string') return name;
    if (!HARMLESS_FUNCTIONS.has(name)) {
      return { error: `it calls ${name}(), which is not a built-in known to only compute a value` };
    }
  }
  if (node.type === 'select' && isRecord(node.into)) {
    if (node.into.position !== null && node.into.position !== undefined) {
      return { error: 'a SELECT … INTO inside it' };
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'loc' || key === 'tableList' || key === 'columnList') continue;
    const bad = checkTree(value, table, aliases);
    if (bad) return bad;
  }
  return null;
}

function astOf(sql: string): unknown {
  parser ??= new Parser();
  return parser.astify(sql, { database: 'MariaDB' });
}

/** Reads one queued statement; `error` says why it must not run. */
export function parseStatement(text: string): ParsedStatement | Refusal {
  const one = singleStatement(text);
  if ('error' in one) return one;
  if (one.sql === '') return { error: 'an empty statement' };
  const head = HEAD.exec(one.sql);
  // The parser's MariaDB grammar lacks UPDATE/DELETE … LIMIT n; a trailing row count (it can
  // only end the text outside a literal) names no table, so it is left out of the parse.
  const parsed = one.sql.replace(/\s+LIMIT\s+[0-9]+$/i, '');
  let ast: unknown;
  try {
    ast = astOf(parsed);
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0].slice(0, 160);
    return { error: `the SQL parser cannot read it, so it is not run (${why})` };
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return { error: 'more than one statement' };
    ast = ast[0];
  }
  if (!isRecord(ast)) return { error: 'the SQL parser gave nothing to check' };
  const verb = VERBS[String(ast.type).toLowerCase()];
  if (!verb) {
    const kind = String(ast.type).toUpperCase();
    return {
      error: `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} statement; only INSERT, REPLACE, UPDATE and DELETE are applied`,
    };
  }
  const target = writtenTable(ast);
  if (!target || typeof target.table !== 'string') {
    return { error: `a ${verb} that does not write exactly one table` };
  }
  if (target.db !== undefined && target.db !== null) {
    return { error: 'a table qualified with a database name is not accepted' };
  }
  const table = target.table.toLowerCase();
  if (!head || head[1].toLowerCase() !== table) {
    return {
      error: `the statement's first words and the SQL parser disagree on the table it writes`,
    };
  }
  const aliases = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (isRecord(node)) {
      if ('db' in node && lower(node.table) === table && typeof node.as === 'string') {
        aliases.add(node.as.toLowerCase());
      }
      for (const [k, v] of Object.entries(node)) if (k !== 'loc') collect(v);
    }
  };
  collect(ast);
  const bad = checkTree(ast, table, aliases);
  if (bad) return bad;
  return { sql: one.sql, verb, table };
}

/**
 * The session sql_mode to apply queued text under: the server's own, less the flags that change
 * how a literal ends (NO_BACKSLASH_ESCAPES; ANSI_QUOTES and ANSI, which make "…" a name), so the
 * server reads the text the way singleStatement and the parser did.
 */
export function safeSqlMode(mode: string): string {
  const drop = new Set(['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'ANSI']);
  return mode
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '' && !drop.has(m.toUpperCase()))
    .join(',');
}
