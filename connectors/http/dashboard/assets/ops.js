// The operator page (/ops, docs/dashboard.md): asks for a token with the
// `read` scope, keeps it in sessionStorage (this tab only) and polls
// GET /v1/ops with it every 2 s, filling the page with that document's
// figures as they are written (numbers as the JSON gives them, rounded to
// two decimals for rates and durations). Nothing is shown without a token
// the server accepts: a 401 or 403 signs out and says why.
'use strict';
(function () {
  const KEY = 'homeward.ops.token';
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function figure(value) {
    if (value === null || value === undefined) return 'none';
    if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(2);
    return String(value);
  }
  function at(document_, path) {
    return path.split('.').reduce((o, k) => (o === null || o === undefined ? o : o[k]), document_);
  }
  function row(cells) {
    const tr = document.createElement('tr');
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = text;
      tr.appendChild(cell);
    });
    return tr;
  }
  function fill(tbody, rows, empty, columns) {
    tbody.replaceChildren(...rows);
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = columns;
      td.textContent = empty;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  function render(ops) {
    document.querySelectorAll('[data-ops]').forEach((dd) => {
      dd.textContent = figure(at(ops, dd.dataset.ops));
    });
    fill($('lag-rows'), ops.lag.map((p) => row([String(p.partition), figure(p.events), figure(p.seconds)])),
      'No partition read yet', 3);
    fill($('reason-rows'), Object.entries(ops.rejections).map(([reason, n]) => row([reason, String(n)])),
      'No reason', 2);
    fill($('latest-rows'), ops.latest_rejections.map((r) =>
      row([r.position, r.case_id || '(unknown)', r.event_id || '(unknown)', r.type || '(malformed)', r.reason])),
      'No event rejected since the server started', 5);
    const audit = ops.audit;
    $('audit-figures').hidden = audit === null;
    $('audit-note').textContent = audit === null
      ? 'serve was started without --audit-dir: no audit to show.'
      : (audit.error || '');
    $('ops-status').textContent = 'Updated ' + new Date().toLocaleTimeString() +
      ' from GET /v1/ops at position ' + ops.position + '; rates over the last ' + ops.window_seconds + ' s.';
  }

  function signOut(message) {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    sessionStorage.removeItem(KEY);
    $('figures').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
  }

  async function poll() {
    timer = null;
    const token = sessionStorage.getItem(KEY);
    if (!token) return signOut('');
    let response;
    try {
      response = await fetch('/v1/ops', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    } catch (e) {
      $('ops-status').textContent = 'The server did not answer; trying again.';
      timer = setTimeout(poll, POLL_MS);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      const problem = await response.json().catch(() => ({}));
      return signOut(response.status === 401
        ? 'The server does not know this token.'
        : 'This token lacks the read scope.' + (problem.detail ? ' ' + problem.detail : ''));
    }
    if (!response.ok) {
      $('ops-status').textContent = 'GET /v1/ops answered ' + response.status + '; trying again.';
      timer = setTimeout(poll, POLL_MS);
      return;
    }
    const ops = await response.json();
    if (sessionStorage.getItem(KEY) !== token) return;  // signed out meanwhile
    render(ops);
    $('login').hidden = true;
    $('figures').hidden = false;
    timer = setTimeout(poll, POLL_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      $('token').value = '';
      if (!token) return;
      sessionStorage.setItem(KEY, token);
      $('login-error').textContent = '';
      poll();
    });
    $('sign-out').addEventListener('click', () => { signOut('Signed out.'); $('token').focus(); });
    if (sessionStorage.getItem(KEY)) poll();
  });
})();
