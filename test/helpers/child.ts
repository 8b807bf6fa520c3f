/**
 * Child processes of the tests: a compiled script of ours run by the same Node binary, killed
 * with SIGKILL as a crash would. One runner for every suite that kills or restarts a process.
 */
import { ChildProcess, spawn } from 'node:child_process';

export interface TestChild {
  process: ChildProcess;
  /** The exit code; null when a signal ended it. */
  done: Promise<number | null>;
  /** What it printed on stdout (and stderr when `stderr: 'pipe'`) so far. */
  output(): string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

export interface ChildOptions {
  /** Arguments after the script. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** 'inherit' (default) shows the child's errors in the test output; 'pipe' keeps them in output(). */
  stderr?: 'inherit' | 'pipe' | 'ignore';
}

/** Starts `node script ...args` and returns at once. */
export function spawnChild(script: string, options: ChildOptions = {}): TestChild {
  const child = spawn(process.execPath, [script, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const done = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? null : code));
    // A script that cannot be started at all ends the same way as one that exits.
    child.once('error', () => resolve(null));
  });
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    process: child,
    done,
    output: () => log,
    kill: async () => {
      if (!gone()) child.kill('SIGKILL');
      await done;
    },
  };
}

/**
 * Starts a child and resolves once its output matches `ready` (by default: its first output,
 * the convention of our child scripts for "started"); rejects if it exits first or `readyMs`
 * passes, with what it printed.
 */
export async function runChild(
  script: string,
  options: ChildOptions & { ready?: RegExp; readyMs?: number } = {},
): Promise<TestChild> {
  const child = spawnChild(script, options);
  const ready = options.ready ?? /[^]/;
  const ms = options.readyMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!ready.test(child.output())) return;
      finish();
      resolve();
    };
    const timer = setTimeout(() => {
      finish();
      void child.kill();
      reject(new Error(`${script} not ready within ${ms} ms:\n${child.output()}`));
    }, ms);
    const finish = () => {
      clearTimeout(timer);
      child.process.stdout?.off('data', check);
      child.process.stderr?.off('data', check);
    };
    child.process.stdout?.on('data', check);
    child.process.stderr?.on('data', check);
    void child.done.then((code) => {
      if (ready.test(child.output())) return;
      finish();
      reject(
        new Error(`${script} exited (${String(code)}) before it was ready:\n${child.output()}`),
      );
    });
  });
  return child;
}
