// The public dashboard's live updates (docs/dashboard.md). The server renders the whole
// page as HTML; this script only keeps it current from the public change stream
// (GET /v1/public/changes, SPEC section 8): each `case` message refills that case's card
// (or adds one when the case belongs to this page of cards), each `stats` message the impact
// report, after which the chart is fetched again (GET /fragments/raised). Amounts are the API's strings, shown as they are: nothing
// here does arithmetic on money. Only the page's own origin is ever asked.
'use strict';
(() => {
  const list = document.getElementById('case-list');
  const template = document.getElementById('case-template');
  const status = document.getElementById('live-status');
  const raisedSection = document.getElementById('raised');
  const cards = new Map();
  for (const li of list.querySelectorAll('li.case')) cards.set(li.dataset.caseId, li);

  const msPerDay = 86400000;
  const dayNumber = (text) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) / msPerDay : null;
  };
  const todayNumber = () => Math.floor(Date.now() / msPerDay);

  // Days open: to the day the case closed, or to today; never below zero.
  const daysOpen = (c) => {
    const opened = dayNumber(c.opened_on);
    const end = c.closed_on ? dayNumber(c.closed_on) : todayNumber();
    return opened === null || end === null ? 0 : Math.max(0, end - opened);
  };

  const setText = (root, field, value) => {
    for (const el of root.querySelectorAll(`[data-field="${field}"]`)) {
      const text = value === null || value === undefined ? '' : String(value);
      if (el.textContent !== text) el.textContent = text;
    }
  };

  const fill = (li, c) => {
    for (const field of ['status', 'goal', 'raised', 'remaining', 'currency', 'percent_funded',
                         'supporters', 'opened_on', 'fully_funded_on', 'closed_on']) {
      setText(li, field, c[field]);
    }
    setText(li, 'days_open', daysOpen(c));
    for (const el of li.querySelectorAll('[data-show="fully_funded_on"]')) el.hidden = !c.fully_funded_on;
    for (const el of li.querySelectorAll('[data-show="closed_on"]')) el.hidden = !c.closed_on;
    li.className = `case status-${c.status}`;
    const bar = li.querySelector('progress');
    bar.value = Math.max(0, Math.min(100, c.percent_funded));
    const budget = li.querySelector('[data-field="budget"]');
    const items = Object.entries(c.budget).map(([category, amount]) => {
      const item = document.createElement('li');
      item.dataset.category = category;
      const name = document.createElement('span');
      name.className = 'category';
      name.textContent = category;
      const value = document.createElement('span');
      value.className = 'amount';
      value.textContent = amount;
      const currency = document.createElement('span');
      currency.className = 'currency';
      currency.textContent = c.currency;
      item.append(name, ' ', value, ' ', currency);
      return item;
    });
    budget.replaceChildren(...items);
    for (const el of li.querySelectorAll('[data-show="no_budget"]')) el.hidden = items.length > 0;
  };

  const newCard = (c) => {
    const li = template.content.firstElementChild.cloneNode(true);
    const from = 'case-new';
    const to = `case-${c.case_id}`;
    const rename = (value) => value.split(' ').map((id) => (id.startsWith(from) ? to + id.slice(from.length) : id)).join(' ');
    for (const el of [li, ...li.querySelectorAll('[id], [aria-labelledby]')]) {
      if (el.id) el.id = rename(el.id);
      const by = el.getAttribute('aria-labelledby');
      if (by) el.setAttribute('aria-labelledby', rename(by));
    }
    li.dataset.caseId = c.case_id;
    li.querySelector('h3').textContent = c.case_id;
    return li;
  };

  // This page's place in the list of cases (the server's ?status=&after=): the cases after
  // `after`, up to and including `last` when more pages follow, of the status `status`.
  const place = { status: list.dataset.status, after: list.dataset.after, last: list.dataset.last };
  const onThisPage = (c) => (!place.status || c.status === place.status)
    && (!place.after || c.case_id > place.after) && (!place.last || c.case_id <= place.last);

  const applyCase = (c, highlight) => {
    let li = cards.get(c.case_id);
    if (!li) {
      if (!onThisPage(c)) return;
      li = newCard(c);
      // Cases stay in case_id order, as the API lists them.
      let before = null;
      for (const [id, other] of cards) {
        if (id > c.case_id && (!before || id < before.dataset.caseId)) before = other;
      }
      list.insertBefore(li, before);
      cards.set(c.case_id, li);
    }
    fill(li, c);
    if (highlight) {
      li.classList.remove('updated');
      void li.offsetWidth;  // restarts the animation
      li.classList.add('updated');
    }
  };

  const statValue = (stats, key) => key.split('.').reduce((v, k) => (v === undefined || v === null ? v : v[k]), stats);

  const applyStats = (stats) => {
    const tbody = document.querySelector('.currencies tbody');
    const codes = Object.keys(stats.by_currency);
    const shown = [...tbody.querySelectorAll('tr')].map((tr) => tr.dataset.currency);
    if (codes.join() !== shown.join()) {
      tbody.replaceChildren(...codes.map((code) => {
        const tr = document.createElement('tr');
        tr.dataset.currency = code;
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = code;
        tr.append(th);
        for (const figure of ['raised', 'goal']) {
          const td = document.createElement('td');
          const span = document.createElement('span');
          span.className = 'amount';
          span.dataset.stat = `by_currency.${code}.${figure}`;
          td.append(span);
          tr.append(td);
        }
        return tr;
      }));
    }
    for (const el of document.querySelectorAll('[data-stat]')) {
      const value = statValue(stats, el.dataset.stat);
      if (value === null) {
        el.textContent = 'none yet';
        el.dataset.null = '';
      } else if (value !== undefined) {
        el.textContent = String(value);
        delete el.dataset.null;
      }
    }
  };

  const refreshChart = async () => {
    const response = await fetch('/fragments/raised', { headers: { Accept: 'text/html' } });
    if (response.ok) raisedSection.innerHTML = await response.text();
  };

  // Everything again from the public routes: at the first connection (what changed between
  // the page's render and the stream's start) and after an `event: reset`. The cards become
  // the API's page of them (data-source), in its order.
  const resync = async () => {
    const response = await fetch(list.dataset.source);
    if (!response.ok) throw new Error(`${list.dataset.source}: ${response.status}`);
    const page = await response.json();
    const kept = new Set(page.map((c) => c.case_id));
    for (const [id, li] of cards) {
      if (!kept.has(id)) {
        li.remove();
        cards.delete(id);
      }
    }
    const more = response.headers.get('Homeward-Next-Cursor') && page.length > 0;
    place.last = more ? page[page.length - 1].case_id : undefined;
    for (const c of page) applyCase(c, false);
    const stats = await fetch('/v1/public/stats');
    if (stats.ok) applyStats(await stats.json());
    await refreshChart();
  };

  const windowMs = Number(status.dataset.windowMs) || 60000;
  const windowText = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
  const say = (text, connected) => {
    status.textContent = text;
    status.classList.toggle('connected', connected);
  };

  if (!('EventSource' in window)) return;  // the page as the server drew it
  const source = new EventSource('/v1/public/changes');
  let synced = false;
  source.addEventListener('open', () => {
    say(`Live: changes appear at the end of each ${windowText} window.`, true);
    if (!synced) {
      synced = true;
      resync().catch(() => say('Live, but the figures could not be read again: reload the page.', true));
    }
  });
  source.addEventListener('error', () => say('Reconnecting to the live figures…', false));
  source.addEventListener('case', (event) => applyCase(JSON.parse(event.data), true));
  source.addEventListener('stats', (event) => {
    applyStats(JSON.parse(event.data));
    refreshChart().catch(() => {});
  });
  source.addEventListener('reset', () => {
    resync().catch(() => say('The figures could not be read again: reload the page.', false));
  });
})();
