/**
 * Which Node-RED the tests run: NODE_RED_VERSION=5 takes the `node-red-5` dev dependency (an
 * npm alias of node-red@5), anything else the `node-red` one (4.x). .ci/run runs the node,
 * example, end-to-end and browser suites once with each.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const NODE_RED_PACKAGE = process.env.NODE_RED_VERSION === '5' ? 'node-red-5' : 'node-red';

/** The folder of that Node-RED package (its red.js and package.json). */
export function nodeRedDir(): string {
  return dirname(require.resolve(`${NODE_RED_PACKAGE}/package.json`));
}

/** Its version, e.g. "5.0.7". */
export function nodeRedVersion(): string {
  const pkg = readFileSync(join(nodeRedDir(), 'package.json'), 'utf8');
  return (JSON.parse(pkg) as { version: string }).version;
}

/** The core nodes (inject, function, debug, ...) of that Node-RED. */
export function coreNodesDir(): string {
  const pkg = require.resolve('@node-red/nodes/package.json', { paths: [nodeRedDir()] });
  return join(dirname(pkg), 'core');
}
