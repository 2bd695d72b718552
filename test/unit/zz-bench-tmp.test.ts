import { ScriptFilter } from '../../core/pg/script-filter.js';
it('bench', async () => {
  for (const mb of [4, 16, 32]) {
    const f = new ScriptFilter({ targetServer: { major: 16 }, psqlKnowsRestrict: true });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const t = Date.now();
    let out = 0;
    f.on('data', (b: Buffer) => (out += b.length));
    for (let i = 0; i < mb * 16; i++) f.write(chunk);
    f.end(Buffer.from('\n'));
    await new Promise((r) => f.on('end', r));
    console.log(mb, 'MB line:', Date.now() - t, 'ms', out);
  }
}, 120000);
