// A node:test reporter that writes one line per skipped test (and nothing else), so that
// scripts/test.mjs can fail a CI run in which a test skipped itself for want of a tool.
export default async function* skips(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    const why = typeof skip === 'string' ? skip : 'skipped';
    yield `${file ?? '?'}: ${name}: ${why}\n`;
  }
}
