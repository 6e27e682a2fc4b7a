// The public dashboard at / in headless Chromium (issue 13): a generated stream
// (homeward-bench gen) published into a fresh ledger, `serve --public-window-ms 1000`.
//   - without JavaScript, the server's HTML shows every figure of /v1/public/stats,
//     /v1/public/cases and /v1/public/raised, the cards PAGE_CASES at a time, and its "Next
//     cases" links visit every case once; with it, the same;
//   - a donation POSTed through the API changes its case's card within 3 s, with no reload;
//   - neither the DOM nor any response the page receives (the event stream included) holds a
//     donor_ref, an event id or a time finer than a day;
//   - every request goes to the server itself; the page weighs under 200 KB;
//   - axe-core finds no serious or critical violation; no horizontal scroll at 375 px, and
//     the keyboard reaches the skip link and the chart's figures;
//   - screenshots at 1440 px and 375 px in --out (generated-public-*.png).
import fs from 'node:fs';
import path from 'node:path';
import { Harness, assert, assertEqual, run } from './lib/harness.mjs';
import { expectAccessible, expectFigures, publicDocuments, readPage } from './lib/public_checks.mjs';


const WINDOW_MS = 1000;
const PAGE_CASES = 5;  // 12 generated cases: three pages of cards
let stream;  // the generated NDJSON lines, parsed
const h = await Harness.start({
  name: 'public_page',
  serveArgs: ['--public-window-ms', String(WINDOW_MS), '--public-page-cases', String(PAGE_CASES)],
  prepare: ({ dataDir, tmp, opts }) => {
    const file = path.join(tmp, 'stream.ndjson');
    run(opts.bench, ['gen', '--events', '600', '--cases', '12', '--seed', '13', '--out', file]);
    stream = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    // Exit 3: some lines are written to be refused by stage 1 (bench/generator.h).
    const published = run('/bin/sh', ['-c', `"${opts.homeward}" --data "${dataDir}" --quiet publish "${file}"; test $? -le 3`]);
    void published;
  },
});
const serve = h.serve;

// ---- the page as it loads, watched: requests, responses, stream messages

const page = await h.page(1440);
const requests = [];
const bodies = [];  // [url, text] of every response the page received
let pageBytes = 0;
const client = await page.createCDPSession();
await client.send('Network.enable');
client.on('Network.eventSourceMessageReceived', (m) => bodies.push([`event-stream ${m.eventName}`, `id: ${m.eventId}\n${m.data}`]));
page.on('request', (r) => requests.push(r.url()));
page.on('response', async (r) => {
  if ((r.headers()['content-type'] || '').startsWith('text/event-stream')) return;
  try {
    const buffer = await r.buffer();
    pageBytes += buffer.length;
    bodies.push([r.url(), buffer.toString('utf8')]);
  } catch { /* a 304 or a redirect has no body */ }
});
let navigations = 0;
page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));

// The cases a page of cards holds: those after its `after` up to its `last` (when more follow).
const casesOfPage = (cases, place) =>
  cases.filter((c) => (!place.after || c.case_id > place.after) && (!place.last || c.case_id <= place.last));

await h.check('without JavaScript the server\'s HTML shows every figure of the public routes, a page of cards at a time', async () => {
  const plain = await h.page(1440, { javaScript: false });
  const [stats, cases, raised] = await Promise.all([
    serve.getJson('/v1/public/stats'), serve.publicCases(), serve.getJson('/v1/public/raised')]);
  assert(cases.length >= 10, `the generated stream opened ${cases.length} cases`);
  const seen = [];
  let url = serve.url('/');
  for (let pages = 0; url && pages < 10; pages += 1) {
    await plain.goto(url, { waitUntil: 'load' });
    const shown = await readPage(plain);
    assert(shown.cards.length <= PAGE_CASES, `${shown.cards.length} cards on ${url}`);
    expectFigures(shown, stats, cases.slice(seen.length, seen.length + shown.cards.length), raised);
    seen.push(...shown.cards.map((c) => c.id));
    url = await plain.$eval('a[rel="next"]', (a) => a.href).catch(() => null);
  }
  assertEqual(seen, cases.map((c) => c.case_id), 'the cards of every page, in order');
  h.note(`${cases.length} cases on ${Math.ceil(cases.length / PAGE_CASES)} pages, currencies ${Object.keys(stats.by_currency).join(' ')}`);
  await plain.close();
});

await h.check('with JavaScript the page connects to the public change stream and shows the same figures', async () => {
  await page.goto(serve.url('/'), { waitUntil: 'load' });
  await page.waitForSelector('#live-status.connected', { timeout: 10000 });
  await page.evaluate(() => { window.homewardMarker = 'same page'; });
  const { stats, cases, raised } = await publicDocuments(serve);
  const shown = await readPage(page);
  expectFigures(shown, stats, casesOfPage(cases, shown.place), raised);
  assertEqual(shown.cards.length, PAGE_CASES, 'cards on the first page');
  assertEqual(errors, [], 'script errors');
});

await h.check('a later page of cards, with JavaScript, shows the same figures as the API\'s page of them', async () => {
  const cases = await serve.publicCases();
  const second = await h.page(1440);
  await second.goto(serve.url(`/?after=${cases[PAGE_CASES - 1].case_id}`), { waitUntil: 'load' });
  await second.waitForSelector('#live-status.connected', { timeout: 10000 });
  const { stats, raised } = await publicDocuments(serve);
  const shown = await readPage(second);
  expectFigures(shown, stats, cases.slice(PAGE_CASES, 2 * PAGE_CASES), raised);
  await second.close();
});

await h.check('a donation POSTed through the API changes its card within 3 s, without a reload', async () => {
  const cases = (await serve.publicCases()).slice(0, PAGE_CASES);  // the cards on the page
  const target = cases.find((c) => c.status === 'open') || cases[0];
  const before = await page.$eval(`li.case[data-case-id="${target.case_id}"] [data-field="raised"]`, (e) => e.textContent);
  const answer = await serve.publish([{
    type: 'DonationReceived', event_id: 'ev-live-0001', occurred_at: new Date().toISOString(),
    case_id: target.case_id, donor_ref: 'donor-live-0001', amount: '7', currency: target.currency,
  }]);
  assertEqual(answer.results[0].outcome, 'applied', 'the donation\'s outcome');
  const posted = Date.now();
  const after = await serve.getJson(`/v1/public/cases/${target.case_id}`);
  assert(after.raised !== before, `raised moved in the API (${before} -> ${after.raised})`);
  await page.waitForFunction(
    (id, raised) => document.querySelector(`li.case[data-case-id="${id}"] [data-field="raised"]`).textContent === raised,
    { timeout: 3000, polling: 50 }, target.case_id, after.raised);
  h.note(`card ${target.case_id}: ${before} -> ${after.raised} ${target.currency}, ${Date.now() - posted} ms after the answer (window ${WINDOW_MS} ms)`);
  assertEqual(await page.evaluate(() => window.homewardMarker), 'same page', 'the page (no reload)');
  assertEqual(navigations, 1, 'navigations of the page');
  // The whole card, the impact report and the chart now agree with the API again.
  await page.waitForFunction((d) => document.querySelector('[data-stat="donations"]').textContent === String(d),
    { timeout: 3000, polling: 50 }, (await serve.getJson('/v1/public/stats')).donations);
  const [stats, all, raised] = await Promise.all([
    serve.getJson('/v1/public/stats'), serve.publicCases(), serve.getJson('/v1/public/raised')]);
  await page.waitForFunction((n) => document.querySelectorAll('#raised table.days tbody tr').length === n,
    { timeout: 3000, polling: 50 }, Object.values(raised.by_currency).reduce((n, s) => n + s.length, 0));
  const shown = await readPage(page);
  expectFigures(shown, stats, casesOfPage(all, shown.place), raised);
});

await h.check('a case opened while the page is shown gets a card in case_id order on its page', async () => {
  const id = 'case-000003a';  // sorts between case-000003 and case-000004: on the first page
  await serve.publish([{
    type: 'CaseOpened', event_id: 'ev-live-0002', occurred_at: new Date().toISOString(), case_id: id,
    currency: 'JPY', budget: [{ category: 'shelter', amount: '5000' }, { category: 'legal', amount: '2500' }],
  }]);
  await page.waitForSelector(`li.case[data-case-id="${id}"]`, { timeout: 3000 });
  await page.waitForFunction((n) => document.querySelector('#cases [data-stat="cases.total"]').textContent === String(n),
    { timeout: 3000, polling: 50 }, (await serve.getJson('/v1/public/stats')).cases.total);
  const { stats, cases, raised } = await publicDocuments(serve);
  const shown = await readPage(page);
  expectFigures(shown, stats, casesOfPage(cases, shown.place), raised);
  assertEqual(shown.cards.length, PAGE_CASES + 1, 'cards on the first page, the new one among them');
});

await h.check('no donor_ref, event id or time finer than a day in the DOM or any response the page received', async () => {
  const secrets = new Set();
  for (const e of [...stream, { event_id: 'ev-live-0001', donor_ref: 'donor-live-0001' }, { event_id: 'ev-live-0002' }]) {
    if (e.event_id) secrets.add(e.event_id);
    if (e.donor_ref) secrets.add(e.donor_ref);
  }
  const dom = await page.evaluate(() => document.documentElement.outerHTML);
  const sources = [['the DOM', dom], ...bodies];
  assert(bodies.some(([u]) => u.startsWith('event-stream case')), 'the page received case messages from the stream');
  const timestamp = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
  const clock = /\b\d{1,2}:\d{2}(:\d{2})?\b/;
  for (const [where, text] of sources) {
    for (const word of ['donor_ref', 'event_id', 'occurred_at']) assert(!text.includes(word), `${where} contains ${word}`);
    for (const token of text.match(/\b(?:ev|donor)-[A-Za-z0-9-]+/g) || []) {
      assert(!secrets.has(token), `${where} contains ${token} of the stream`);
    }
    assert(!timestamp.test(text), `${where} contains a timestamp: ${text.match(timestamp)}`);
    if (!where.endsWith('.css') && !/\.css\?/.test(where)) {
      assert(!clock.test(text), `${where} contains a time of day: ${text.match(clock)}`);
    }
  }
  h.note(`${sources.length} texts read (${bodies.filter(([u]) => u.startsWith('event-stream')).length} stream messages)`);
});

await h.check('every request goes to the server itself, and the page weighs under 200 KB', async () => {
  const origin = `http://${serve.address}`;
  for (const url of requests) assert(url.startsWith(`${origin}/`), `a request to another host: ${url}`);
  const first = bodies.filter(([u]) => !u.startsWith('event-stream'));
  h.note(`${requests.length} requests; ${pageBytes} bytes received besides the stream (${first.length} responses)`);
  assert(pageBytes < 200 * 1024, `the page received ${pageBytes} bytes`);
});

await h.check('axe-core: no serious or critical accessibility violation', async () => {
  await expectAccessible(page, (t) => h.note(t));
});

await h.check('the keyboard reaches the skip link first and it leads to the cases', async () => {
  await page.keyboard.press('Tab');
  assertEqual(await page.evaluate(() => document.activeElement.className), 'skip', 'the first focus');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#cases', { timeout: 2000 });
  let reachedSummary = false;
  for (let i = 0; i < 40 && !reachedSummary; i += 1) {
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    reachedSummary = await page.evaluate(() => document.activeElement.tagName === 'SUMMARY');
  }
  assert(reachedSummary, 'Shift+Tab from the cases reaches the chart\'s figures (summary)');
});

await h.check('screenshots at 1440 px and 375 px; at 375 px nothing scrolls sideways', async () => {
  await page.evaluate(() => { window.scrollTo(0, 0); document.activeElement.blur(); history.replaceState(null, '', '/'); });
  const wide = path.join(h.out, 'generated-public-1440.png');
  await page.screenshot({ path: wide, fullPage: true });
  const phone = await h.page(375);
  await phone.goto(serve.url('/'), { waitUntil: 'load' });
  await phone.waitForSelector('#live-status.connected', { timeout: 10000 });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assertEqual(overflow, 0, 'sideways overflow at 375 px (px)');
  const narrow = path.join(h.out, 'generated-public-375.png');
  await phone.screenshot({ path: narrow, fullPage: true });
  h.note(`wrote ${wide} and ${narrow}`);
  await phone.close();
});

await h.finish();
