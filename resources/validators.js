/* Editor validators that accept exactly what the runtime accepts (lib/util/values.ts): numbers as
 * Number() reads the trimmed text (toNumber, toInteger), lists split on commas and spaces (toList).
 * An empty value is allowed where the field falls back to a conf file or a default. One copy for
 * every dialog of the package. */
(function () {
  'use strict';
  function text(v) {
    return v === undefined || v === null ? '' : String(v).trim();
  }
  /** toInteger(v, fallback, name, min, max). */
  function wholeNumber(min, max, optional) {
    return function (v) {
      var s = text(v);
      if (s === '') return !!optional;
      var n = Number(s);
      return Number.isInteger(n) && n >= min && n <= max;
    };
  }
  /** toNumber(v) and a range check. */
  function number(min, max, optional) {
    return function (v) {
      var s = text(v);
      if (s === '') return !!optional;
      var n = Number(s);
      return Number.isFinite(n) && n >= min && n <= max;
    };
  }
  /** toList(v).map((x) => toInteger(x, 0, name, 1)): ids of the node registry; empty = every one. */
  function idList() {
    return function (v) {
      return text(v)
        .split(/[,\s]+/)
        .every(function (x) {
          var n = Number(x);
          return x === '' || (Number.isSafeInteger(n) && n >= 1);
        });
    };
  }
  window.PandoraSyncValidators = { wholeNumber: wholeNumber, number: number, idList: idList };
})();
