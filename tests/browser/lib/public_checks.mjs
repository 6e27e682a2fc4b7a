// What the public page must show, computed from the API's documents, and what it shows,
// read from its DOM: shared by the public page's test files.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { assert, assertEqual } from './harness.mjs';

export const todayNumber = () => Math.floor(Date.now() / 86400000);
export const dayNumber = (text) => {
  const [y, m, d] = text.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 86400000;
};
export const daysOpen = (c) =>
  Math.max(0, (c.closed_on ? dayNumber(c.closed_on) : todayNumber()) - dayNumber(c.opened_on));

// Every leaf of the stats document as "a.b.c" -> value.
function leaves(value, prefix = '', out = {}) {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

// What the DOM shows, read in the page.
export async function readPage(page) {
  return page.evaluate(() => {
    const text = (el) => (el ? el.textContent : null);
    const stats = {};
    for (const el of document.querySelectorAll('[data-stat]')) {
      (stats[el.dataset.stat] ||= []).push({ text: el.textContent, isNull: 'null' in el.dataset });
    }
    const cards = [...document.querySelectorAll('#case-list > li.case')].map((li) => {
      const field = (name) => [...li.querySelectorAll(`[data-field="${name}"]`)].map((e) => e.textContent);
      const shown = (name) => [...li.querySelectorAll(`[data-show="${name}"]`)].map((e) => !e.hidden);
      const bar = li.querySelector('progress');
      const label = (bar.getAttribute('aria-labelledby') || '').split(' ')
        .map((id) => text(document.getElementById(id))).join(' ');
      return {
        id: li.dataset.caseId,
        title: text(li.querySelector('h3')),
        fields: Object.fromEntries(['status', 'goal', 'raised', 'remaining', 'currency', 'percent_funded',
          'supporters', 'opened_on', 'fully_funded_on', 'closed_on', 'days_open'].map((f) => [f, field(f)])),
        shown: { fully_funded_on: shown('fully_funded_on'), closed_on: shown('closed_on'), no_budget: shown('no_budget') },
        budget: [...li.querySelectorAll('[data-field="budget"] > li')].map((b) => [
          b.dataset.category, text(b.querySelector('.amount')), text(b.querySelector('.currency'))]),
        progress: { value: bar.value, max: bar.max, label },
      };
    });
    const raised = [...document.querySelectorAll('#raised figure')].map((f) => ({
      currency: f.dataset.currency,
      rows: [...f.querySelectorAll('table.days tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
      chart: !!f.querySelector('svg.chart polyline'),
    }));
    const list = document.getElementById('case-list');
    const place = { after: list.dataset.after || '', last: list.dataset.last || '', status: list.dataset.status || '' };
    return { stats, cards, raised, place };
  });
}

export function expectFigures(shown, stats, cases, raised) {
  // The impact report: every figure of /v1/public/stats, as the API writes it.
  const expected = leaves(stats);
  for (const [key, value] of Object.entries(expected)) {
    const els = shown.stats[key];
    assert(els && els.length > 0, `stats figure ${key} is not on the page`);
    for (const el of els) {
      if (value === null) assert(el.isNull && el.text === 'none yet', `${key}: null shows as "none yet", got ${el.text}`);
      else assertEqual(el.text, String(value), `stats ${key}`);
    }
  }
  for (const key of Object.keys(shown.stats)) assert(key in expected, `the page shows ${key}, which stats lacks`);
  // Every case, in the API's order, every figure on its card.
  assertEqual(shown.cards.map((c) => c.id), cases.map((c) => c.case_id), 'the cards');
  for (const [i, c] of cases.entries()) {
    const card = shown.cards[i];
    const at = `case ${c.case_id}`;
    assertEqual(card.title, c.case_id, `${at} title`);
    for (const f of ['status', 'goal', 'raised', 'remaining', 'percent_funded', 'supporters', 'opened_on']) {
      assertEqual(card.fields[f], [String(c[f])], `${at} ${f}`);
    }
    assertEqual(card.fields.currency, [c.currency, c.currency, c.currency], `${at} currency`);
    assertEqual(card.fields.fully_funded_on, [c.fully_funded_on ?? ''], `${at} fully_funded_on`);
    assertEqual(card.shown.fully_funded_on, [c.fully_funded_on !== null], `${at} fully funded badge`);
    assertEqual(card.fields.closed_on, [c.closed_on ?? ''], `${at} closed_on`);
    assertEqual(card.shown.closed_on, [c.closed_on !== null], `${at} closed badge`);
    assertEqual(card.fields.days_open, [String(daysOpen(c))], `${at} days open`);
    assertEqual(card.budget, Object.entries(c.budget).map(([k, v]) => [k, v, c.currency]), `${at} budget`);
    assertEqual(card.shown.no_budget, [Object.keys(c.budget).length === 0], `${at} "no budget"`);
    assertEqual(card.progress.value, Math.max(0, Math.min(100, c.percent_funded)), `${at} progress value`);
    assertEqual(card.progress.max, 100, `${at} progress max`);
    assertEqual(card.progress.label, `${c.case_id} ${c.percent_funded}% of the goal raised`, `${at} progress label`);
  }
  // Money raised over time: every day of /v1/public/raised in its currency's table.
  assertEqual(shown.raised.map((r) => r.currency), Object.keys(raised.by_currency), 'the charts\' currencies');
  for (const r of shown.raised) {
    const series = raised.by_currency[r.currency];
    assertEqual(r.rows, series.map((d) => [d.day, d.raised, d.total]), `raised by day, ${r.currency}`);
    assertEqual(r.chart, series.length > 0, `a chart for ${r.currency}`);
  }
}


// axe-core's scan of the page: its violations of serious or critical impact must be none.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function expectAccessible(page, note) {
  await page.evaluate(axeSource);  // through the DevTools protocol: the page's CSP allows no inline script
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  for (const v of result.violations) note(`axe ${v.impact}: ${v.id} (${v.nodes.length}): ${v.help}`);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assertEqual(bad.map((v) => v.id), [], 'serious or critical violations');
  note(`${result.passes.length} rules passed, ${result.violations.length} violations of lesser impact`);
}

// The public documents as the server answers them now.
export async function publicDocuments(serve) {
  const [stats, cases, raised] = await Promise.all([
    serve.getJson('/v1/public/stats'), serve.publicCases(), serve.getJson('/v1/public/raised')]);
  return { stats, cases, raised };
}
