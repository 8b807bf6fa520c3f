/**
 * Pandora's io_safe_output / io_safe_input as the console applies them, checked on the texts its
 * database really holds, and the filters that are built from them.
 */
import assert from 'node:assert/strict';
import { saying } from './words';
import { describe, it } from 'node:test';
import { htmlEntityDecode, ioSafeInput, ioSafeOutput } from '../../lib/query/entities';
import {
  namePattern,
  parseOperation,
  parseReadFilters,
  parseTargets,
} from '../../lib/query/operations';
import { moduleStatus, parseStatus } from '../../lib/query/status';

describe('io_safe_output', () => {
  it('decodes what the console stores', () => {
    assert.equal(ioSafeOutput('Web&#x20;server&#x20;&#40;main&#41;'), 'Web server (main)');
    assert.equal(ioSafeOutput('Servers&#x20;&amp;&#x20;DB'), 'Servers & DB');
    assert.equal(ioSafeOutput('&lt;b&gt;&quot;x&quot;&#039;y&#39;'), '<b>"x"\'y\'');
    assert.equal(ioSafeOutput('Espa&ntilde;a&#x20;&euro;&#176;&#xba;&#92;'), 'España €°º\\');
    assert.equal(ioSafeOutput('&#x1F600;&#128512;'), '😀😀');
  });

  it('decodes once, as PHP does, and leaves what PHP leaves', () => {
    assert.equal(ioSafeOutput('&amp;lt;'), '&lt;');
    assert.equal(ioSafeOutput('&amp;#40;'), '&#40;');
    // HTML 4.01 has no &apos;; unknown names, missing semicolons and control characters stay.
    assert.equal(
      ioSafeOutput('&apos;&bogus;&amp&#1;&#x80;&#xD800;'),
      '&apos;&bogus;&amp&#1;&#x80;&#xD800;',
    );
    assert.equal(ioSafeOutput('&#x09;&#x0a;'), '\t\n');
    assert.equal(htmlEntityDecode('&#99999999999;'), '&#99999999999;');
  });

  it('returns empty and non-text values as given', () => {
    assert.equal(ioSafeOutput(''), '');
    assert.equal(ioSafeOutput(null), null);
    assert.equal(ioSafeOutput(42), 42);
  });
});

describe('io_safe_input', () => {
  it('encodes as the console stores', () => {
    assert.equal(ioSafeInput('Web server (main)'), 'Web&#x20;server&#x20;&#40;main&#41;');
    assert.equal(ioSafeInput('Servers & DB'), 'Servers&#x20;&amp;&#x20;DB');
    assert.equal(
      ioSafeInput(`<a href="x">'</a>`),
      '&lt;a&#x20;href=&quot;x&quot;&gt;&#039;&lt;/a&gt;',
    );
    assert.equal(
      ioSafeInput('España ¿€ º° /*x*/ \\'),
      'Espa&ntilde;a&#x20;¿€&#x20;&#xba;&#176;&#x20;&#47;&#42;x&#42;&#47;&#x20;&#92;',
    );
    assert.equal(ioSafeInput('a\tb'), 'a&#x09;b');
    assert.equal(ioSafeInput('12'), '12');
  });

  it('round-trips through io_safe_output', () => {
    for (const s of ['Web server (main)', 'a<b>&c "d" \'e\'', 'Año 2026 ÷ ∑ €', 'x\\y /* z */']) {
      assert.equal(ioSafeOutput(ioSafeInput(s)), s);
    }
  });
});

describe('filters', () => {
  it('turns names with * into LIKE patterns over the stored text', () => {
    assert.equal(namePattern('Web server*', 'agent'), 'Web&#x20;server%');
    assert.equal(namePattern('*50%_off*', 'agent'), '%50\\%\\_off%');
    assert.equal(namePattern('db01', 'agent'), 'db01');
  });

  it('reads statuses by name or number', () => {
    assert.equal(parseStatus('Critical'), 'critical');
    assert.equal(parseStatus(4), 'notinit');
    assert.equal(parseStatus('5'), 'notinit');
    assert.equal(parseStatus('not init'), 'notinit');
    assert.throws(() => parseStatus('red'), saying(/status must be one of normal, critical/));
    assert.equal(moduleStatus(null), 'notinit');
    assert.equal(moduleStatus(2), 'warning');
  });

  it('refuses what a read does not understand, with the filters it has', () => {
    assert.throws(
      () => parseReadFilters('agents', { grupo: 2 }),
      saying(
        /"agents" has no filter "grupo": its filters are group, recursion, agent, status, module, disabled, instances/,
      ),
    );
    assert.throws(
      () => parseReadFilters('tactical', { status: 'critical' }),
      saying(/"tactical" has no filter "status"/),
    );
    assert.throws(() => parseReadFilters('agents', 'web'), saying(/must be an object of filters/));
    assert.throws(
      () => parseReadFilters('agents', { group: { id: 2 } }),
      saying(/group must be a group name or id/),
    );
    assert.throws(
      () => parseReadFilters('agents', { agent: '' }),
      saying(/agent must be a non-empty text/),
    );
    assert.throws(
      () => parseReadFilters('agents', { instances: [1, -2] }),
      saying(/instances must be a positive whole number/),
    );
    assert.throws(
      () => parseReadFilters('alerts', { status: 'critical' }),
      saying(/status of an alert must be one of fired, notfired, disabled, standby/),
    );
    assert.deepEqual(
      parseReadFilters('agents', {
        group: 'Servers & DB',
        status: ['critical', 2],
        instances: '1,2',
      }),
      {
        group: { name: 'Servers&#x20;&amp;&#x20;DB' },
        status: ['critical', 'warning'],
        instances: [1, 2],
      },
    );
    assert.deepEqual(parseReadFilters('agents', { group: '2' }), { group: { id: 2 } });
    assert.deepEqual(parseReadFilters('agents', null), {});
  });

  it('checks operations and change targets', () => {
    assert.equal(parseOperation('', 'tactical'), 'tactical');
    assert.equal(parseOperation(' alert.standby ', 'agents'), 'alert.standby');
    assert.throws(
      () => parseOperation('agent.delete', 'agents'),
      saying(/unknown operation "agent.delete": use one of agents, modules/),
    );
    assert.deepEqual(parseTargets('agent.disable', { instance: 1, id: '7' }), [
      { instance: 1, id: 7 },
    ]);
    assert.deepEqual(
      parseTargets('alert.disable', [{ instance: { id: 2, name: 'b' }, id: 5, fired: true }]),
      [{ instance: 2, id: 5 }],
    );
    assert.throws(
      () => parseTargets('agent.disable', []),
      saying(/needs at least one \{instance, id\} target/),
    );
    assert.throws(
      () => parseTargets('agent.disable', [{ instance: 1, id: 2 }, { id: 3 }]),
      saying(/target 2 of "agent.disable": instance must be/),
    );
    assert.throws(
      () => parseTargets('agent.disable', 'all'),
      saying(/must be an object \{instance, id\}/),
    );
  });
});

describe('refusals in both languages', () => {
  it('words one target as "the target", several by number, and in Spanish alike', async () => {
    const { catalogue } = await import('../nodes/catalogue');
    const { errorText } = await import('../../nodes/instance-query/status');
    const { QueryError } = await import('../../lib/query/errors');
    const caught = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (e instanceof QueryError) return e;
      }
      throw new Error('no QueryError');
    };
    const one = caught(() => parseTargets('agent.disable', { instance: 'x', id: 1 }));
    const two = caught(() => parseTargets('agent.disable', [{ instance: 1, id: 1 }, 'x']));
    const en = catalogue('instance-query');
    const es = catalogue('instance-query', 'es-ES');
    assert.equal(
      errorText(one, en),
      'the target of "agent.disable": instance must be a positive whole number, got "x"',
    );
    assert.equal(
      errorText(two, en),
      'target 2 of "agent.disable" must be an object {instance, id}, got "x"',
    );
    assert.match(errorText(one, es), /^el destino de "agent.disable": instance debe ser/);
    assert.match(errorText(two, es), /^el destino 2 de "agent.disable" debe ser un objeto/);
  });
});
