// The audit trail page: GET /api/audit with the filters of the form, newest first; "Older entries" follows the continuation.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);
  let continuation = null;

  function showSignIn() {
    $('au-app').hidden = true;
    $('au-sign-in').hidden = false;
  }

  // datetime-local values are the browser's local time; the API takes ISO 8601.
  function iso(value) {
    if (!value) return null;
    const d = new Date(value);
    return isNaN(d.getTime()) ? null : d.toISOString();
  }

  function query() {
    const q = new URLSearchParams();
    const add = (name, value) => { if (value) q.set(name, value); };
    add('from', iso($('au-from').value));
    add('to', iso($('au-to').value));
    add('actor', $('au-actor').value.trim());
    add('action', $('au-action').value.trim());
    add('targetType', $('au-target-type').value.trim());
    add('targetId', $('au-target-id').value.trim());
    add('outcome', $('au-outcome').value);
    add('pageSize', '50');
    return q;
  }

  function cell(text, testid) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (testid) td.dataset.testid = testid;
    return td;
  }

  function render(items, append) {
    const body = $('au-rows');
    if (!append) body.replaceChildren();
    for (const e of items) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'audit-row';
      const target = [e.targetType, e.targetId].filter(Boolean).join(' ');
      const actor = e.actor ? e.actor + ' (' + e.actorKind + ')' : e.actorKind;
      tr.append(cell(String(e.timestamp).replace('T', ' ').replace(/\.\d+/, '').replace('+00:00', '')), cell(e.action, 'audit-action'),
        cell(actor, 'audit-actor'), cell(e.ipAddress), cell(target, 'audit-target'), cell(e.outcome + ' ' + (e.status || ''), 'audit-outcome'),
        cell(e.details));
      body.append(tr);
    }
    if (!append && items.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('No entries match.');
      td.colSpan = 7;
      tr.append(td);
      body.append(tr);
    }
  }

  async function load(append) {
    $('au-status').textContent = '';
    const q = query();
    if (append && continuation) q.set('continuation', continuation);
    try {
      const page = await api('GET', '/api/audit?' + q.toString());
      render(page.items, append);
      continuation = page.continuation;
      $('au-more').hidden = !continuation;
    } catch (e) {
      $('au-status').textContent = e.message;
    }
  }

  function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('au-sign-in').hidden = true;
    $('au-app').hidden = false;
    load(false);
  }

  $('au-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    continuation = null;
    load(false);
  });
  $('au-more').addEventListener('click', () => load(true));
  $('au-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('au-key').value.trim());
    start();
  });
  start();
})();
