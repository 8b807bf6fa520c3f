import type { Writable } from 'node:stream';

/**
 * Resolves when `stream` has room again after a write returned false; rejects when it closes
 * first, including when it is already gone (a destroyed socket emits neither 'drain' nor
 * 'close' again, so waiting on it would never end).
 */
export function drain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed || !stream.writable) {
      reject(new Error('connection closed'));
      return;
    }
    const done = () => {
      stream.off('close', closed);
      resolve();
    };
    const closed = () => {
      stream.off('drain', done);
      reject(new Error('connection closed'));
    };
    stream.once('drain', done);
    stream.once('close', closed);
  });
}
