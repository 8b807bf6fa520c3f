/**
 * node-red-node-test-helper with the few types these tests use (the package ships none), on the
 * Node-RED that NODE_RED_VERSION picks.
 */
import type { Node } from 'node-red';
import { NODE_RED_PACKAGE } from './node-red-version';

export interface ReplyBody {
  tokens: Record<string, string>;
  others: string[];
  error: string;
}

export interface RedTestHelper {
  init(nodeRedPath: string): void;
  load(
    nodes: unknown,
    flow: object[],
    credentials?: Record<string, Record<string, string>>,
  ): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): Node | null;
  startServer(done: () => void): void;
  stopServer(done: () => void): void;
  /** The runtime log spy: every log call's first argument. */
  log(): { args: [{ level: number; msg: unknown; type?: string; id?: string }][] };
  request(): {
    get(path: string): {
      query(q: Record<string, string>): Promise<{ status: number; body: ReplyBody }>;
    };
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper') as RedTestHelper;
helper.init(require.resolve(NODE_RED_PACKAGE));
export default helper;
