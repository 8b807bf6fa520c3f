// Preloaded (--require) by scripts/test.mjs on Node releases before 20.7, whose test runner
// runs a file's top-level after() hooks only at 'beforeExit': with a server or pool still open,
// that moment never comes and the file hangs. Here a top-level after() is kept back and run once
// every top-level suite and test of the file has settled, as newer releases do.
'use strict';
/* global setImmediate */
const test = require('node:test');

const rootAfters = [];
const running = [];
let depth = 0;

function nested(fn) {
  return function (...args) {
    depth++;
    let result;
    try {
      result = fn.apply(this, args);
    } finally {
      depth--;
    }
    if (depth === 0 && result && typeof result.then === 'function') running.push(result);
    return result;
  };
}

for (const name of ['describe', 'suite', 'it', 'test']) {
  const original = test[name];
  if (typeof original !== 'function') continue;
  const wrapped = nested(original);
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') wrapped[variant] = nested(original[variant]);
  }
  test[name] = wrapped;
}

const originalAfter = test.after;
test.after = function (fn, options) {
  if (depth > 0) return originalAfter.call(this, fn, options);
  rootAfters.push(fn);
};

// After the test file has been loaded (it registers its suites synchronously).
setImmediate(async () => {
  let seen = 0;
  while (seen < running.length) {
    seen = running.length;
    await Promise.allSettled(running);
  }
  for (const fn of rootAfters) {
    try {
      await fn();
    } catch (err) {
      console.error('after hook failed:', err);
      process.exitCode = 1;
    }
  }
});
