// `homeward demo --serve` (issue 13 item 5): the pilot scenario published into a fresh
// ledger, then served; the URL is printed after the impact report, the page shows exactly the
// public routes' figures of that ledger, passes axe-core, and SIGTERM stops it cleanly (exit
// 0, under ASan with LeakSanitizer's check). Its screenshots at 1440 px and 375 px are the
// ones in docs/ (dashboard-public-1440.png, dashboard-public-375.png) and the README.
import fs from 'node:fs';
import path from 'node:path';
import { Harness, assert, assertEqual } from './lib/harness.mjs';
import { expectAccessible, expectFigures, publicDocuments, readPage } from './lib/public_checks.mjs';

const h = await Harness.start({
  name: 'demo_serve',
  argv: ['demo', '--serve', '--listen', '127.0.0.1:0', '--public-window-ms', '1000'],
});
const serve = h.serve;

await h.check('demo --serve prints the impact report, then the dashboard\'s URL', async () => {
  const lines = serve.output.text.trimEnd().split('\n');
  assert(serve.output.text.includes('Homeward demo: the demo/pilot.ndjson scenario'), 'the demo\'s heading');
  assertEqual(lines.at(-1), `The dashboard: http://${serve.address}/ (Ctrl-C stops)`, 'the last line');
});

await h.check('the page shows the pilot ledger\'s public figures, with and without JavaScript', async () => {
  const { stats, cases, raised } = await publicDocuments(serve);
  assertEqual(cases.length, 4, 'the pilot\'s cases');
  for (const javaScript of [false, true]) {
    const page = await h.page(1440, { javaScript });
    await page.goto(serve.url('/'), { waitUntil: 'load' });
    if (javaScript) await page.waitForSelector('#live-status.connected', { timeout: 10000 });
    expectFigures(await readPage(page), stats, cases, raised);
    await page.close();
  }
  h.note(`donations ${stats.donations}, donors ${stats.donors}, raised ${JSON.stringify(stats.by_currency)}`);
});

await h.check('axe-core: no serious or critical violation; screenshots at 1440 px and 375 px', async () => {
  for (const width of [1440, 375]) {
    const page = await h.page(width);
    await page.goto(serve.url('/'), { waitUntil: 'load' });
    await page.waitForSelector('#live-status.connected', { timeout: 10000 });
    if (width === 1440) await expectAccessible(page, (t) => h.note(t));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assertEqual(overflow, 0, `sideways overflow at ${width} px (px)`);
    const file = path.join(h.out, `dashboard-public-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    h.note(`wrote ${file}`);
    await page.close();
  }
});

await h.check('SIGTERM stops it with exit 0 and its temporary ledger is removed', async () => {
  assertEqual(await serve.stop(), 0, 'the exit code');
  const left = fs.readdirSync(h.tmp).filter((name) => name.startsWith('homeward-demo-'));
  assertEqual(left, [], 'demo directories left in its TMPDIR');
});

await h.finish();
