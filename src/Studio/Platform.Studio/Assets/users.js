// The Users page (Admins): lists GET /api/users; creates users with a role; changes a role, resets a password, disables,
// enables and deletes (PUT /api/users/{id}/role|password|disabled, DELETE /api/users/{id}).
'use strict';
(function () {
  const { readKey, takeKeyFromUrl } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const ROLES = ['Admin', 'Designer', 'Operator', 'Viewer'];
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);

  function showSignIn() {
    $('us-app').hidden = true;
    $('us-sign-in').hidden = false;
  }

  function status(text) { $('us-status').textContent = text || ''; }

  function roleSelect(value) {
    const select = document.createElement('select');
    for (const role of ROLES) select.append(new Option(role, role, false, role === value));
    return select;
  }

  function button(text, testid, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'in-btn in-secondary';
    b.textContent = text;
    b.dataset.testid = testid;
    b.addEventListener('click', async () => {
      status('');
      try { await onClick(); await load(); } catch (e) { status(e.message); }
    });
    return b;
  }

  async function load() {
    const users = await api('GET', '/api/users');
    const body = $('us-list');
    body.replaceChildren();
    for (const user of users) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'user-' + user.userName;
      const name = document.createElement('td');
      name.textContent = user.userName;
      const role = document.createElement('td');
      const select = roleSelect(user.role);
      select.setAttribute('aria-label', 'Role of ' + user.userName);
      select.addEventListener('change', async () => {
        status('');
        try { await api('PUT', '/api/users/' + encodeURIComponent(user.id) + '/role', { role: select.value }); } catch (e) { status(e.message); }
        await load();
      });
      role.append(select);
      const state = document.createElement('td');
      state.textContent = user.disabled ? 'disabled' : user.lockedOutUntil ? 'locked until ' + new Date(user.lockedOutUntil).toLocaleTimeString() : 'active';
      const actions = document.createElement('td');
      const id = encodeURIComponent(user.id);
      actions.append(
        button('Reset password', 'reset-' + user.userName, async () => {
          const password = prompt('New password for ' + user.userName + ' (10+ characters):');
          if (password) await api('PUT', '/api/users/' + id + '/password', { password });
        }),
        button(user.disabled ? 'Enable' : 'Disable', 'toggle-' + user.userName,
          () => api('PUT', '/api/users/' + id + '/disabled', { disabled: !user.disabled })),
        button('Delete', 'delete-' + user.userName, async () => {
          if (confirm('Delete the user ' + user.userName + '?')) await api('DELETE', '/api/users/' + id);
        }));
      tr.append(name, role, state, actions);
      body.append(tr);
    }
  }

  $('us-new').addEventListener('submit', async (event) => {
    event.preventDefault();
    status('');
    try {
      await api('POST', '/api/users', { userName: $('us-name').value.trim(), password: $('us-password').value, role: $('us-role').value });
      $('us-name').value = '';
      $('us-password').value = '';
      await load();
    } catch (e) {
      status(e.message);
    }
  });

  async function start() {
    for (const role of ROLES) $('us-role').append(new Option(role, role, false, role === 'Viewer'));
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('us-app').hidden = false;
    try { await load(); } catch (e) { status(e.message); }
  }

  start();
})();
