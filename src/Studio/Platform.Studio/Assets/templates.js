// The "New from template" page: lists GET /api/templates; "Use" makes a draft (POST /api/templates/{id}/instantiate) and
// opens it in the Studio designer.
'use strict';
(function () {
  const { readKey, storeKey, takeKeyFromUrl } = window.PlatformPage;
  const $ = (id) => document.getElementById(id);
  const api = (method, path, body) => window.PlatformPage.api(method, path, body, showSignIn);

  function showSignIn() {
    $('tp-app').hidden = true;
    $('tp-sign-in').hidden = false;
  }

  async function use(template, button) {
    button.disabled = true;
    $('tp-status').textContent = '';
    try {
      const name = $('tp-name').value.trim();
      const draft = await api('POST', '/api/templates/' + encodeURIComponent(template.id) + '/instantiate', name ? { name } : {});
      location.assign('/workflows/definitions/' + encodeURIComponent(draft.definitionId) + '/edit');
    } catch (e) {
      $('tp-status').textContent = e.message;
      button.disabled = false;
    }
  }

  async function load() {
    const templates = await api('GET', '/api/templates');
    const ul = $('tp-list');
    ul.replaceChildren();
    for (const t of templates) {
      const li = document.createElement('li');
      li.className = 'tp-item';
      const text = document.createElement('div');
      const title = document.createElement('strong');
      title.textContent = t.name;
      const description = document.createElement('p');
      description.className = 'in-hint';
      description.textContent = t.description;
      text.append(title, description);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'in-btn';
      button.textContent = 'Use';
      button.dataset.testid = 'use-' + t.id;
      button.setAttribute('aria-label', 'New workflow from ' + t.name);
      button.addEventListener('click', () => use(t, button));
      li.append(text, button);
      ul.append(li);
    }
    if (templates.length === 0) ul.innerHTML = '<li class="in-hint">No templates: the server has no workflows/templates/index.json next to its binary.</li>';
  }

  async function start() {
    takeKeyFromUrl();
    if (!readKey()) { showSignIn(); return; }
    $('tp-sign-in').hidden = true;
    $('tp-app').hidden = false;
    try {
      await load();
    } catch (e) {
      $('tp-status').textContent = e.message;
    }
  }

  $('tp-sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    storeKey($('tp-key').value.trim());
    start();
  });
  start();
})();
