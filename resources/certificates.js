/* The "Create certificates…" panel of the pandora-config and tentacle-buffer dialogs. Node-RED
 * serves this file at resources/node-red-contrib-pandora-sync/certificates.js; each dialog says
 * which fields the new files fill and what goes to the other side. */
(function () {
  'use strict';

  function escapeText(s) {
    return $('<div>').text(s).html();
  }

  function panelHtml(prefix, t, namesIcon) {
    var id = function (x) {
      return prefix + '-certs-' + x;
    };
    // A labelled text field: `key` names its id, label and placeholder texts.
    var textRow = function (key, icon) {
      return (
        '<div class="form-row"><label for="' +
        id(key) +
        '" style="width: 80px"><i class="fa ' +
        icon +
        '"></i> ' +
        escapeText(t(key)) +
        '</label><input type="text" id="' +
        id(key) +
        '" placeholder="' +
        escapeText(t(key + 'Placeholder')) +
        '" style="width: calc(100% - 90px)" /></div>'
      );
    };
    return (
      '<div id="' +
      prefix +
      '-certs" style="display: none; margin: 0 0 12px 105px; padding: 8px 10px; ' +
      'border: 1px solid var(--red-ui-secondary-border-color, #ccc); border-radius: 4px">' +
      '<div class="form-tips" style="margin-bottom: 8px">' +
      escapeText(t('intro')) +
      '</div>' +
      textRow('dir', 'fa-folder') +
      textRow('names', namesIcon) +
      '<div class="form-row"><label style="width: 80px">&nbsp;</label><input type="checkbox" id="' +
      id('overwrite') +
      '" style="width: auto; margin: 0" /> <label for="' +
      id('overwrite') +
      '" style="width: auto">' +
      escapeText(t('overwrite')) +
      '</label></div>' +
      '<div class="form-row" style="margin-bottom: 0"><label style="width: 80px">&nbsp;</label>' +
      '<button id="' +
      id('create') +
      '" class="red-ui-button primary">' +
      escapeText(t('create')) +
      '</button> ' +
      '<button id="' +
      id('cancel') +
      '" class="red-ui-button">' +
      escapeText(t('cancel')) +
      '</button></div>' +
      '<pre id="' +
      id('result') +
      '" style="display: none; margin: 8px 0 0 0; white-space: pre-wrap; font-size: 0.85em"></pre>' +
      '</div>'
    );
  }

  /**
   * options: node (the node being edited, for its labels), prefix (the node type, also the
   * label namespace and the id prefix), namesIcon, proposeNames(hostname) -> names text,
   * fill(response) puts the paths in the dialog fields, summary(response) -> lines to show.
   */
  function attach(options) {
    var prefix = options.prefix;
    var t = function (key, vars) {
      return options.node._(prefix + '.certs.' + key, vars);
    };
    $('#' + prefix + '-certs-area').html(panelHtml(prefix, t, options.namesIcon));
    var field = function (x) {
      return $('#' + prefix + '-certs-' + x);
    };
    $('#' + prefix + '-certs-open').on('click', function (e) {
      e.preventDefault();
      var panel = $('#' + prefix + '-certs');
      if (panel.is(':visible')) {
        panel.hide();
        return;
      }
      panel.show();
      $.getJSON('pandora-sync/certificates')
        .done(function (d) {
          if (!field('dir').val()) field('dir').val(d.dir);
          if (!field('names').val()) field('names').val(options.proposeNames(d.hostname));
        })
        .fail(function () {
          if (!field('names').val()) field('names').val(options.proposeNames(''));
        });
    });
    field('cancel').on('click', function (e) {
      e.preventDefault();
      $('#' + prefix + '-certs').hide();
    });
    field('create').on('click', function (e) {
      e.preventDefault();
      var out = field('result');
      var button = $(this);
      out.css('color', '').text(t('working')).show();
      button.prop('disabled', true);
      $.ajax({
        url: 'pandora-sync/certificates',
        method: 'POST',
        contentType: 'application/json',
        dataType: 'json',
        data: JSON.stringify({
          dir: field('dir').val().trim(),
          names: field('names').val(),
          overwrite: field('overwrite').is(':checked'),
        }),
      })
        .done(function (d) {
          options.fill(d);
          out.text(options.summary(d, t).join('\n'));
        })
        .fail(function (xhr) {
          var msg = (xhr.responseJSON && xhr.responseJSON.error) || xhr.statusText || 'error';
          out.css('color', 'var(--red-ui-text-color-error, #d6615f)').text(msg);
        })
        .always(function () {
          button.prop('disabled', false);
        });
    });
  }

  window.PandoraSyncCertificates = { attach: attach };
})();
