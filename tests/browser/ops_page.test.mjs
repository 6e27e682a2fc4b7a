// The operator page at /ops in headless Chromium (issue 13 item 2): a generated stream
// (homeward-bench gen, with rejections and malformed lines) published into a fresh ledger and
// audited (`homeward audit --out DIR`), then `serve --tokens FILE --audit-dir DIR`.
//   - without a token, and with a wrong one or one without the read scope, the page shows
//     the sign-in form and no figure, and no /v1/ops answer with figures reaches it;
//   - with a read token it shows exactly the figures of the GET /v1/ops answer it received
//     (every figure, every row), and those agree with the ledger: the stream is POSTed
//     through the API (wait=outcome), handled by outcome equal to the answers' outcomes,
//     rejections equal to `homeward rejections --json`, the audit (run beside serve after
//     the publish; none before: the page says so) equal to report.json;
//   - axe-core finds no serious or critical violation (signed out and signed in); Tab reaches
//     the skip link, the token field and the button; nothing scrolls sideways at 1440 px or at
//     375 px; screenshots at 1440 px (dashboard-ops-1440.png) and 375 px (ops-375.png).
import fs from 'node:fs';
import path from 'node:path';
import { Harness, assert, assertEqual, run } from './lib/harness.mjs';
import { expectAccessible } from './lib/public_checks.mjs';

const serveArgs = [];
let readToken;
let metricsToken;
let publishToken;
let auditDir;
let streamFile;
const h = await Harness.start({
  name: 'ops_page',
  serveArgs,
  prepare: ({ tmp, opts }) => {
    streamFile = path.join(tmp, 'stream.ndjson');
    run(opts.bench, ['gen', '--events', '400', '--cases', '8', '--seed', '21', '--out', streamFile]);
    const tokens = path.join(tmp, 'tokens');
    const create = (name, scope) =>
      run(opts.homeward, ['--quiet', 'token', 'create', '--name', name, '--scope', scope, '--append', tokens]).split('\n')[0];
    readToken = create('ops', 'read');
    metricsToken = create('scraper', 'metrics');
    publishToken = create('portal', 'publish');
    auditDir = path.join(tmp, 'audit');
    fs.mkdirSync(auditDir);
    serveArgs.push('--tokens', tokens, '--audit-dir', auditDir);
  },
});
const serve = h.serve;
const dataDir = path.join(h.tmp, 'data');
let auditReport;
let rejections;
let outcomes;

async function opsJson(token) {
  const response = await fetch(serve.url('/v1/ops'), { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, 'GET /v1/ops with the read token');
  return response.json();
}

// What the page shows: every [data-ops] figure and every table row, as text.
function readOps(page) {
  return page.evaluate(() => ({
    figuresHidden: document.getElementById('figures').hidden,
    loginHidden: document.getElementById('login').hidden,
    figures: Object.fromEntries([...document.querySelectorAll('[data-ops]')].map((e) => [e.dataset.ops, e.textContent])),
    rows: Object.fromEntries(['lag-rows', 'reason-rows', 'latest-rows'].map((id) => [id,
      [...document.querySelectorAll(`#${id} tr`)].map((tr) => [...tr.cells].map((c) => c.textContent))])),
    error: document.getElementById('login-error').textContent,
  }));
}

// The page's way of writing a figure (ops.js): numbers with a fraction to two decimals.
const figure = (v) => (v === null || v === undefined ? 'none'
  : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v));
const at = (o, p) => p.split('.').reduce((x, k) => (x == null ? x : x[k]), o);

function expectShows(shown, ops) {
  assert(!shown.figuresHidden && shown.loginHidden, 'the figures are shown, the form is not');
  for (const [key, text] of Object.entries(shown.figures)) assertEqual(text, figure(at(ops, key)), `figure ${key}`);
  assertEqual(Object.keys(shown.figures).length, 12, 'figures on the page');
  assertEqual(shown.rows['lag-rows'], ops.lag.map((p) => [String(p.partition), figure(p.events), figure(p.seconds)]), 'lag rows');
  assertEqual(shown.rows['reason-rows'], Object.entries(ops.rejections).map(([r, n]) => [r, String(n)]), 'reason rows');
  assertEqual(shown.rows['latest-rows'], ops.latest_rejections.map((r) =>
    [r.position, r.case_id || '(unknown)', r.event_id || '(unknown)', r.type || '(malformed)', r.reason]), 'latest rejected rows');
}

// Watches the page's /v1/ops answers: [status, body text].
function watchOps(page) {
  const answers = [];
  page.on('response', async (r) => {
    if (!r.url().includes('/v1/ops')) return;
    answers.push([r.status(), await r.text().catch(() => '')]);
  });
  return answers;
}

await h.check('before any audit /v1/ops says there is no report; the stream is published through the API', async () => {
  const before = await opsJson(readToken);
  assertEqual(before.audit.result, null, 'no audit result yet');
  assert(before.audit.error.includes('no audit report'), `the audit's note: ${before.audit.error}`);
  const response = await fetch(serve.url('/v1/events?wait=outcome'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${publishToken}` },
    body: fs.readFileSync(streamFile),
  });
  assertEqual(response.status, 200, 'POST /v1/events');
  const answer = await response.json();
  assertEqual(answer.pending, 0, 'outcomes pending');
  run(h.opts.homeward, ['--data', dataDir, '--quiet', 'audit', '--out', auditDir]);
  auditReport = JSON.parse(fs.readFileSync(path.join(auditDir, 'report.json'), 'utf8'));
  rejections = JSON.parse(run(h.opts.homeward, ['--data', dataDir, '--quiet', 'rejections', '--json']));
  outcomes = answer.results.filter((r) => r.result === 'appended').map((r) => r.outcome);
  h.note(`published: ${answer.appended} appended, ${answer.refused} refused; ${rejections.length} rejected; audit ${auditReport.result}`);
});

await h.check('/ops without a token shows the sign-in form and no figure', async () => {
  const page = await h.page(1440);
  const answers = watchOps(page);
  await page.goto(serve.url('/ops'), { waitUntil: 'networkidle0' });
  const shown = await readOps(page);
  assert(shown.figuresHidden && !shown.loginHidden, 'the form is shown, the figures are not');
  for (const [key, text] of Object.entries(shown.figures)) assertEqual(text, '', `figure ${key} before a token`);
  assertEqual(answers, [], '/v1/ops answers the page received');
  const html = await (await fetch(serve.url('/ops'))).text();
  assert(!/[0-9]+:[0-9]+/.test(html.replace(/\?v=[0-9a-f]+/g, '')), 'no position in the HTML');
  assertEqual((await fetch(serve.url('/v1/ops'))).status, 401, 'GET /v1/ops without a token');
  await expectAccessible(page, (t) => h.note(t));
  await page.close();
});

await h.check('a wrong token, or one without the read scope, keeps the figures hidden and says why', async () => {
  const page = await h.page(1440);
  const answers = watchOps(page);
  await page.goto(serve.url('/ops'), { waitUntil: 'load' });
  for (const [token, status, words] of [['hw_not-a-token', 401, 'does not know'], [metricsToken, 403, 'lacks the read scope']]) {
    await page.type('#token', token);
    await page.click('button[type=submit]');
    await page.waitForFunction((w) => document.getElementById('login-error').textContent.includes(w), { timeout: 5000 }, words);
    const shown = await readOps(page);
    assert(shown.figuresHidden, 'figures hidden');
    for (const [key, text] of Object.entries(shown.figures)) assertEqual(text, '', `figure ${key}`);
    assertEqual(answers.at(-1)[0], status, 'the answer');
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'no token kept');
  }
  await page.close();
});

await h.check('with a read token the page shows exactly the figures of GET /v1/ops, which are the ledger\'s', async () => {
  const page = await h.page(1440);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const answers = watchOps(page);
  await page.goto(serve.url('/ops'), { waitUntil: 'load' });
  // The keyboard: the skip link, then the token field, then the button.
  await page.keyboard.press('Tab');
  assertEqual(await page.evaluate(() => document.activeElement.className), 'skip', 'first Tab');
  await page.keyboard.press('Tab');
  assertEqual(await page.evaluate(() => document.activeElement.id), 'token', 'second Tab');
  await page.keyboard.type(readToken);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#figures:not([hidden])', { timeout: 5000 });
  // The DOM against the answer it was filled from: read both with no poll in between.
  let shown;
  let last;
  for (let i = 0; i < 20; ++i) {
    const before = answers.length;
    shown = await readOps(page);
    if (answers.length === before && answers.length > 0) { last = answers.at(-1); break; }
    await new Promise((r) => setTimeout(r, 100));
  }
  assertEqual(last[0], 200, 'the page\'s /v1/ops answer');
  const ops = JSON.parse(last[1]);
  expectShows(shown, ops);
  // The figures that do not move while nothing is published, against the ledger itself.
  const now = await opsJson(readToken);
  assertEqual(ops.handled, now.handled, 'handled, page and route');
  assertEqual(ops.rejections, now.rejections, 'rejections, page and route');
  const byReason = {};
  for (const r of rejections) byReason[r.reason] = (byReason[r.reason] || 0) + 1;
  for (const [reason, n] of Object.entries(ops.rejections)) assertEqual(n, byReason[reason] || 0, `rejections ${reason}`);
  assertEqual(ops.handled.rejected, rejections.length, 'rejected = homeward rejections --json');
  for (const name of ['applied', 'duplicate', 'rejected']) {
    assertEqual(ops.handled[name], outcomes.filter((o) => o === name).length, `handled ${name} = the POST's outcomes`);
  }
  assertEqual(ops.latest_rejections.length, Math.min(20, rejections.length), 'latest rejected rows');
  assertEqual(ops.audit.result, auditReport.result, 'audit result');
  assertEqual(ops.audit.state_digest, auditReport.state_digest.value, 'audit digest');
  assertEqual(ops.audit.generated_at, auditReport.generated_at, 'audit time');
  assert(ops.lag.length >= 1 && ops.lag.every((p) => p.events === 0), 'caught up on every partition');
  assert(ops.http.requests_in_window > 0 && ops.http.p99_ms !== null, 'requests seen');
  assertEqual(errors, [], 'script errors');
  h.note(`handled ${JSON.stringify(ops.handled)}, ${ops.events_per_second} events/s, http ${JSON.stringify(ops.http)}, audit ${ops.audit.result}`);
  await expectAccessible(page, (t) => h.note(t));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assertEqual(overflow, 0, 'sideways overflow at 1440 px (px)');
  const file = path.join(h.out, 'dashboard-ops-1440.png');
  await page.screenshot({ path: file, fullPage: true });
  h.note(`wrote ${file}`);
  // A phone: the same figures, and nothing scrolls sideways (tables scroll in their own box).
  await page.setViewport({ width: 375, height: 800 });
  await page.waitForFunction(() => document.documentElement.clientWidth === 375, { timeout: 2000 });
  const phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assertEqual(phoneOverflow, 0, 'sideways overflow at 375 px (px)');
  assert(!(await readOps(page)).figuresHidden, 'the figures at 375 px');
  const phoneFile = path.join(h.out, 'ops-375.png');
  await page.screenshot({ path: phoneFile, fullPage: true });
  h.note(`wrote ${phoneFile}`);
  // Signing out hides the figures and forgets the token.
  await page.click('#sign-out');
  assert((await readOps(page)).figuresHidden, 'hidden after signing out');
  assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'no token kept');
  await page.close();
});

await h.finish();
