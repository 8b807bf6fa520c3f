/**
 * What a tsync_queue statement writes, and whether it may run. The check reads the text with a
 * lexer that follows MariaDB's own (literals, quoted names, numbers, comments) and then checks
 * the shape of the token stream; MariaDB itself is the judge of the grammar (a statement the
 * server cannot read fails when it runs, its error kept in the item). A SQL parser of our own was
 * tried first and dropped: its grammar differs from MariaDB's (a bare `status` column in an
 * INSERT column list or a DELETE condition was "unreadable"), so it refused statements Pandora's
 * consoles queue every day and blocked their node.
 *
 * The promises, each kept by the token check and none by a reading of the grammar:
 * - exactly one INSERT, REPLACE, UPDATE or DELETE: no second statement, no comment (MariaDB runs
 *   the text of `/*! … *\/`), no control byte outside a literal, no `?` placeholder, no ODBC
 *   `{…}` escape;
 * - it writes the one table its first words name, with no database qualifier, no second table in
 *   the UPDATE / DELETE head (a comma, a JOIN, USING) and no alias but of that table;
 * - it reads no other table: none of the reserved words that bring one in (SELECT, FROM, JOIN,
 *   INTO, USING, UNION, WITH, TABLE, FOR, …) after the head, and every `x.y` qualifier is the
 *   table or its alias (never `db.table.column`, never `db.function()`);
 * - it calls nothing but built-ins known to only compute a value (a stored function or a UDF can
 *   do anything; LOAD_FILE, SLEEP or NEXTVAL read files, hold the node or write sequences);
 * - no user or system variable.
 * Reserved words cannot be bare column names in MariaDB, so refusing them refuses no statement
 * MariaDB would run on a named column (test/replicate/statement-schema.test.ts proves it over
 * every column of Pandora's schema).
 *
 * The text MariaDB runs is the text given here; the queue connection clears the sql_mode flags
 * that change how literals are read (see safeSqlMode), so the server reads it as the lexer did.
 */

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
  BIT_XOR CAST CEIL CEILING CHAR CHAR_LENGTH CHARACTER_LENGTH CHR COALESCE CONCAT CONCAT_WS CONV
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

/**
 * Reserved words that may stand before `(` without calling anything: operators, clause words and
 * the INSERT's VALUES. Every other word before `(` is a function call.
 */
const BEFORE_PARENTHESIS = new Set(
  `AND OR NOT XOR IN IS LIKE REGEXP RLIKE BETWEEN DIV CASE WHEN THEN ELSE ESCAPE BINARY INTERVAL
  WHERE SET ON BY LIMIT OFFSET RETURNING DISTINCT ASC DESC AS VALUES VALUE NULL`.split(/\s+/),
);

/**
 * Reserved words (so never a bare column name) that bring another table, a second query or a
 * sequence into a statement.
 */
const OTHER_TABLE_WORDS = new Set(
  `SELECT FROM JOIN INTO USING UNION WITH TABLE FOR EXCEPT INTERSECT LOCK STRAIGHT_JOIN`.split(
    /\s+/,
  ),
);

/** Reserved words that cannot be an alias after the table in the UPDATE / DELETE head. */
const HEAD_END = new Set(
  'SET WHERE ORDER LIMIT RETURNING PARTITION JOIN INNER LEFT RIGHT CROSS NATURAL STRAIGHT_JOIN USING FROM'.split(
    ' ',
  ),
);

const MODIFIERS: Record<Verb, string[]> = {
  INSERT: ['LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE'],
  REPLACE: ['LOW_PRIORITY', 'DELAYED'],
  UPDATE: ['LOW_PRIORITY', 'IGNORE'],
  DELETE: ['LOW_PRIORITY', 'QUICK', 'IGNORE'],
};

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct';

interface Token {
  kind: TokenKind;
  /** A word upper-cased; a quoted name unquoted; a punctuation character as is. */
  value: string;
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const NUMBER =
  /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_$\u0080-\uffff])/;

/**
 * The statement's tokens and its text without a final `;`, or why it is refused. Literals follow
 * MariaDB's default reading ('…' and "…" with backslash escapes and doubled quotes, `…` with
 * doubled backticks).
 */
function tokenize(sql: string): { sql: string; tokens: Token[] } | Refusal {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  let end = n;
  while (i < n) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      i++;
      let value = '';
      while (i < n) {
        if (sql[i] === '\\' && c !== '`') {
          value += sql.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          break;
        }
        value += sql[i];
        i++;
      }
      if (i >= n) return { error: `unterminated ${c} literal` };
      i++;
      if (c === '`') tokens.push({ kind: 'quoted', value });
      else tokens.push({ kind: 'string', value: sql.slice(start, i) });
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
      end = i;
      break;
    }
    const code = c.charCodeAt(0);
    if (code < 32 || code === 127) {
      return { error: `a control character (code ${code}) outside a string literal` };
    }
    if (c === '@') return { error: 'it uses a user or system variable (@…)' };
    if (c === '?') return { error: 'it holds a "?" placeholder outside a string literal' };
    if (c === '{' || c === '}') return { error: 'it holds an ODBC {…} escape' };
    const prev = tokens[tokens.length - 1];
    const afterName = prev && (prev.kind === 'word' || prev.kind === 'quoted');
    const num = afterName && c === '.' ? null : NUMBER.exec(sql.slice(i, i + 400));
    if (num) {
      tokens.push({ kind: 'number', value: num[0] });
      i += num[0].length;
      continue;
    }
    if (IDENT_CHAR.test(c)) {
      const start = i;
      while (i < n && IDENT_CHAR.test(sql[i])) i++;
      tokens.push({ kind: 'word', value: sql.slice(start, i).toUpperCase() });
      continue;
    }
    tokens.push({ kind: 'punct', value: c });
    i++;
  }
  return { sql: sql.slice(0, end).trim(), tokens };
}

/** The statement without a final `;`, or why it is refused (the lexer's refusals only). */
export function singleStatement(sql: string): { sql: string } | Refusal {
  const t = tokenize(sql);
  return 'error' in t ? t : { sql: t.sql };
}

const isName = (t: Token | undefined): t is Token =>
  t !== undefined && (t.kind === 'word' || t.kind === 'quoted');
const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.kind === 'word' && words.includes(t.value);
const nameOf = (t: Token): string => t.value.toLowerCase();

/** Reads one queued statement; `error` says why it must not run. */
export function parseStatement(text: string): ParsedStatement | Refusal {
  const lexed = tokenize(text);
  if ('error' in lexed) return lexed;
  const { tokens } = lexed;
  if (tokens.length === 0) return { error: 'an empty statement' };
  const first = tokens[0];
  const verb = (['INSERT', 'REPLACE', 'UPDATE', 'DELETE'] as Verb[]).find((v) => isWord(first, v));
  if (!verb) {
    const kind = first.kind === 'word' ? first.value : first.value.toUpperCase();
    return {
      error: `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} statement; only INSERT, REPLACE, UPDATE and DELETE are applied`,
    };
  }
  let at = 1;
  while (isWord(tokens[at], ...MODIFIERS[verb])) at++;
  if (verb === 'DELETE') {
    if (!isWord(tokens[at], 'FROM'))
      return { error: 'a DELETE that does not write exactly one table' };
    at++;
  } else if ((verb === 'INSERT' || verb === 'REPLACE') && isWord(tokens[at], 'INTO')) at++;
  const target = tokens[at];
  if (!isName(target) || (target.kind === 'word' && OTHER_TABLE_WORDS.has(target.value))) {
    return { error: `a ${verb} that does not write exactly one table` };
  }
  if (!/^[A-Za-z0-9_$]+$/.test(target.value)) {
    return { error: `a ${verb} of a table name the check does not accept` };
  }
  const table = nameOf(target);
  at++;
  if (tokens[at]?.value === '.' && tokens[at].kind === 'punct') {
    return { error: 'a table qualified with a database name is not accepted' };
  }
  const aliases = new Set<string>([table]);
  if (verb === 'UPDATE' || verb === 'DELETE') {
    if (isWord(tokens[at], 'AS')) {
      at++;
      if (!isName(tokens[at])) return { error: `a ${verb} with an alias the check cannot read` };
      aliases.add(nameOf(tokens[at]));
      at++;
    } else if (isName(tokens[at]) && !HEAD_END.has(tokens[at].value)) {
      aliases.add(nameOf(tokens[at]));
      at++;
    }
    const next = tokens[at];
    const ok =
      verb === 'UPDATE'
        ? isWord(next, 'SET')
        : next === undefined || isWord(next, 'WHERE', 'ORDER', 'LIMIT', 'RETURNING');
    if (!ok) return { error: `a ${verb} that does not write exactly one table` };
  }
  for (let k = at; k < tokens.length; k++) {
    const tok = tokens[k];
    const next = tokens[k + 1];
    if (tok.kind === 'word' && OTHER_TABLE_WORDS.has(tok.value)) {
      return {
        error: `it holds ${tok.value}, which could read or write a table besides ${table}`,
      };
    }
    if (isName(tok) && next?.kind === 'punct' && next.value === '(') {
      if (tok.kind === 'quoted') return { error: `it calls \`${tok.value}\`()` };
      if (!HARMLESS_FUNCTIONS.has(tok.value) && !BEFORE_PARENTHESIS.has(tok.value)) {
        return {
          error: `it calls ${tok.value}(), which is not a built-in known to only compute a value`,
        };
      }
    }
    if (tok.kind === 'punct' && tok.value === '.') {
      const q = tokens[k - 1];
      const col = tokens[k + 1];
      if (!isName(q) || !isName(col)) return { error: 'a "." the check cannot read' };
      const before = tokens[k - 2];
      if (before?.kind === 'punct' && before.value === '.') {
        return { error: `it names the database ${tokens[k - 3]?.value ?? ''}` };
      }
      if (!aliases.has(nameOf(q))) {
        return {
          error: `it reads or writes ${q.kind === 'word' ? q.value.toLowerCase() : q.value} besides ${table}`,
        };
      }
      const after = tokens[k + 2];
      if (after?.kind === 'punct' && after.value === '(') {
        return { error: `it calls a function of the database ${q.value}` };
      }
    }
  }
  return { sql: lexed.sql, verb, table };
}

/**
 * The session sql_mode to apply queued text under: the server's own, less the flags that change
 * how a literal ends (NO_BACKSLASH_ESCAPES; ANSI_QUOTES and ANSI, which make "…" a name) or how
 * the statement is parsed (ORACLE and the other compatibility modes), so the server reads the
 * text the way the lexer did.
 */
export function safeSqlMode(mode: string): string {
  const drop = new Set([
    'NO_BACKSLASH_ESCAPES',
    'ANSI_QUOTES',
    'ANSI',
    'ORACLE',
    'MSSQL',
    'DB2',
    'POSTGRESQL',
    'MAXDB',
  ]);
  return mode
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '' && !drop.has(m.toUpperCase()))
    .join(',');
}
