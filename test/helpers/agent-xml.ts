/**
 * An agent data file as a software agent writes it: XML, one module per few lines, values that
 * change from file to file. About `bytes` long; such files compress to a fifth or less.
 */
export function agentXml(agent: string, seq: number, bytes: number): Buffer {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<agent_data agent_name="${agent}" os_name="Linux" version="7.0NG" interval="300" timestamp="2026/12/01 10:${String(seq % 60).padStart(2, '0')}:00">`,
  ];
  let length = lines.join('\n').length;
  for (let m = 0; length < bytes - 200; m++) {
    const module = [
      '  <module>',
      `    <name><![CDATA[check_${m}]]></name>`,
      '    <type><![CDATA[generic_data]]></type>',
      `    <data><![CDATA[${(seq * 7919 + m * 104729) % 100000}]]></data>`,
      '  </module>',
    ];
    lines.push(...module);
    length += module.join('\n').length + 1;
  }
  lines.push('</agent_data>', '');
  return Buffer.from(lines.join('\n'));
}
