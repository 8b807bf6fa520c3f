/* Editor validators that accept exactly what the runtime accepts (toInteger in
 * lib/util/values.ts): what Number() reads from the trimmed text, a whole number from min to max;
 * empty is allowed when the field falls back to a conf file or a default. */
(function () {
  'use strict';
  function wholeNumber(min, max, optional) {
    return function (v) {
      var s = v === undefined || v === null ? '' : String(v).trim();
      if (s === '') return !!optional;
      var n = Number(s);
      return Number.isInteger(n) && n >= min && n <= max;
    };
  }
  window.PandoraSyncValidators = { wholeNumber: wholeNumber };
})();
