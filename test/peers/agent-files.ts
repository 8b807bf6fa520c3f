/**
 * Agent data files as Pandora's software agents write them, with modules whose values decide their
 * state in pandora_server: `cpu` is critical from 90 (min_critical), every other module has no
 * thresholds (normal).
 */
export function agentFile(
  agent: string,
  modules: Record<string, number>,
  opts: { group?: string; timestamp?: string } = {},
): Buffer {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<agent_data agent_name="${agent}" os_name="Linux" os_version="12" version="7.0NG.776" ` +
      `interval="300" timestamp="${opts.timestamp ?? 'AUTO'}" group="${opts.group ?? 'Servers'}">`,
  ];
  for (const [name, value] of Object.entries(modules)) {
    lines.push(
      '  <module>',
      `    <name><![CDATA[${name}]]></name>`,
      '    <type><![CDATA[generic_data]]></type>',
      `    <data><![CDATA[${value}]]></data>`,
      ...(name === 'cpu'
        ? ['    <min_critical>90</min_critical>', '    <max_critical>0</max_critical>']
        : []),
      '  </module>',
    );
  }
  lines.push('</agent_data>', '');
  return Buffer.from(lines.join('\n'));
}
