// The API keys page: a signed-in user manages their own keys, an Admin every key (with its owner: a user or a service
// account). Lists GET /api/keys, creates (POST /api/keys; the key is shown once with a Copy button),
// rotates (POST /api/keys/{id}/rotate; the new key shown once) and revokes (DELETE /api/keys/{id}).
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);

  function showSignIn() {
    $('ky-app').hidden = true;
    $('ky-sign-in').hidden = false;
  }

  function when(value) {
    return value ? new Date(value).toLocaleString() : '—';
  }

  function showSecret(title, key) {
    $('ky-secret-title').textContent = title;
    $('ky-secret-value').value = key;
    $('ky-copied').textContent = '';
    $('ky-secret').hidden = false;
    $('ky-secret-value').select();
  }

  async function copySecret() {
    const value = $('ky-secret-value').value;
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      $('ky-secret-value').select();
      document.execCommand('copy');
    }
    $('ky-copied').textContent = 'Copied.';
  }

  function button(text, testid, className, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'in-btn ' + className;
    b.textContent = text;
    b.dataset.testid = testid;
    b.addEventListener('click', onClick);
    return b;
  }

  async function rotate(key) {
    if (!confirm(`Rotate '${key.name}'? Its current secret stops working at once.`)) return;
    $('ky-status').textContent = '';
    try {
      const rotated = await api('POST', '/api/keys/' + encodeURIComponent(key.id) + '/rotate');
      showSecret(`New secret of '${rotated.name}': copy it now, it is not shown again.`, rotated.key);
      await load();
    } catch (e) {
      $('ky-status').textContent = e.message;
    }
  }

  async function revoke(key) {
    if (!confirm(`Revoke '${key.name}'? Clients using it are refused from now on; this cannot be undone.`)) return;
    $('ky-status').textContent = '';
    try {
      await api('DELETE', '/api/keys/' + encodeURIComponent(key.id));
      await load();
    } catch (e) {
      $('ky-status').textContent = e.message;
    }
  }

  async function load() {
    const keys = await api('GET', '/api/keys');
    const tbody = $('ky-rows');
    tbody.replaceChildren();
    for (const k of keys) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'key-row';
      tr.dataset.keyId = k.id;
      const owner = !k.owner ? '—' : k.ownerKind === 'service' ? k.owner + ' (service account)' : k.owner;
      for (const text of [k.name, owner, k.role, k.prefix + '…', k.status, when(k.createdAt), when(k.expiresAt), when(k.lastUsedAt)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const actions = document.createElement('td');
      if (k.status !== 'revoked') {
        actions.append(button('Rotate', 'rotate-' + k.id, 'in-secondary', () => rotate(k)), ' ',
          button('Revoke', 'revoke-' + k.id, 'in-danger', () => revoke(k)));
      }
      tr.append(actions);
      tbody.append(tr);
    }
    if (keys.length === 0) tbody.innerHTML = '<tr><td colspan="9" class="in-hint">No keys yet.</td></tr>';
  }

  async function create(e) {
    e.preventDefault();
    $('ky-status').textContent = '';
    const body = { name: $('ky-name').value.trim(), role: $('ky-role').value };
    const date = $('ky-expires').value;
    if (date) body.expiresAt = new Date(date + 'T23:59:59').toISOString(); // the end of that day, local time
    const owner = $('ky-owner').value.trim();
    if (owner) { body.owner = owner; body.ownerKind = $('ky-owner-kind').value; }
    try {
      const created = await api('POST', '/api/keys', body);
      showSecret(`Key '${created.name}' (${created.role}) of ${created.owner}: copy it now, it is not shown again.`, created.key);
      $('ky-form').reset();
      await load();
    } catch (err) {
      $('ky-status').textContent = err.message;
    }
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('ky-sign-in').hidden = true;
    $('ky-app').hidden = false;
    try {
      await load();
    } catch (e) {
      $('ky-status').textContent = e.message;
    }
  }

  $('ky-form').addEventListener('submit', create);
  $('ky-copy').addEventListener('click', copySecret);
  $('ky-done').addEventListener('click', () => { $('ky-secret-value').value = ''; $('ky-secret').hidden = true; });
  $('ky-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('ky-sign-in-key').value.trim());
    start();
  });
  start();
})();
