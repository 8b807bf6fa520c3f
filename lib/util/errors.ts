/**
 * The package's failures: a code and the facts, never a sentence. Nodes word them from their
 * catalogue (`errors.<code>` in locales/<lang>/<node>.json, facts as `__name__` values);
 * `message` is only the code and the facts, for logs outside Node-RED. Each engine narrows
 * `code` to its own union (e.g. `ERR_SYNC_*`) by extending this class.
 */

export type ErrorFacts = Record<string, string | number>;

export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    readonly facts: ErrorFacts = {},
    options?: { cause?: unknown },
  ) {
    super(`${code} ${JSON.stringify(facts)}`, options);
    this.name = 'CodedError';
  }
}

/** Whether `err` is one of the package's coded failures (of any engine). */
export function isCoded(err: unknown): err is CodedError {
  return err instanceof CodedError;
}

/**
 * The first error of class `kind` along `err`'s `cause` chain (CodedError by default), or null.
 * The one place the chain is walked (a database error wrapped by an engine error wrapped by a
 * round's error).
 */
export function causeOf<E extends Error = CodedError>(
  err: unknown,
  kind: abstract new (...args: never[]) => E = CodedError as unknown as abstract new (
    ...args: never[]
  ) => E,
): E | null {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e);) {
    if (e instanceof kind) return e;
    seen.add(e);
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * The words a database, network or file-system failure carries: the server's own message when it
 * has one, else the error's message or code. For a coded failure, its `message` fact or its code.
 */
export function reasonOf(err: unknown): string {
  if (err instanceof CodedError) return String(err.facts.message ?? err.code);
  const e = err as { sqlMessage?: string; message?: string; code?: string } | null;
  return e?.sqlMessage || e?.message || e?.code || String(err);
}
