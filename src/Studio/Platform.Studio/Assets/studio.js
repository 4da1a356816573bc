// Host page of the Workflow Studio: picks the Elsa Studio custom element for the URL, handles the API key
// (sign-in link ?key=…, sign-in form, sign-out), loads the Blazor WebAssembly bundle and wires the element's
// callbacks. One Studio element per page load: moving to another view loads the page again, because two live
// Studio elements conflict and a removed one is only disposed about a second later.
'use strict';
(function () {
  const API_ENDPOINT = location.origin + '/elsa/api';

  // Loaded in this order, only once signed in (the same scripts the package's own index.html loads).
  const SCRIPTS = [
    '_content/BlazorMonaco/jsInterop.js',
    '_content/BlazorMonaco/lib/monaco-editor/min/vs/loader.js',
    '_content/BlazorMonaco/lib/monaco-editor/min/vs/editor/editor.main.js',
    '_content/MudBlazor/MudBlazor.min.js',
    '_content/CodeBeam.MudBlazor.Extensions/MudExtensions.min.js',
    '_content/Radzen.Blazor/Radzen.Blazor.js',
    '_framework/blazor.webassembly.js',
  ];

  const ROUTES = [
    { pattern: /^\/(?:workflows\/definitions\/?)?$/, section: 'definitions', title: 'Workflow definitions',
      tag: 'elsa-workflow-definition-list' },
    { pattern: /^\/workflows\/definitions\/([^/]+)\/edit\/?$/, section: 'definitions', title: 'Workflow editor',
      tag: 'elsa-workflow-definition-editor', idAttribute: 'definition-id' },
    { pattern: /^\/workflows\/instances\/?$/, section: 'instances', title: 'Workflow instances',
      tag: 'elsa-workflow-instance-list' },
    { pattern: /^\/workflows\/instances\/([^/]+)\/view\/?$/, section: 'instances', title: 'Workflow instance',
      tag: 'elsa-workflow-instance-viewer', idAttribute: 'instance-id' },
  ];

  const $ = (id) => document.getElementById(id);

  function matchRoute(pathname) {
    for (const route of ROUTES) {
      const m = route.pattern.exec(pathname);
      if (m) return { route, id: m[1] === undefined ? null : safeDecode(m[1]) };
    }
    return null;
  }

  function safeDecode(s) {
    try { return decodeURIComponent(s); } catch { return s; }
  }

  // ---- API key -------------------------------------------------------------------------------------------

  const { readKey, storeKey, clearKey, takeKeyFromUrl, SESSION } = window.PlatformPage; // page-api.js

  // 'ok' | 'rejected' | 'unreachable'. Only 401 means a wrong key; a key with fewer rights may still get 403s.
  async function checkKey(key) {
    try {
      // A user session (SESSION) travels in the same-origin cookie; an API key in the header.
      const response = await fetch(API_ENDPOINT + '/features/installed', key === SESSION
        ? { cache: 'no-store', credentials: 'same-origin' }
        : { headers: { Authorization: 'ApiKey ' + key }, cache: 'no-store', credentials: 'omit' });
      return response.status === 401 ? 'rejected' : 'ok';
    } catch {
      return 'unreachable';
    }
  }

  // ---- Views ---------------------------------------------------------------------------------------------

  function showSignIn(message) {
    $('ps-loading').hidden = true;
    $('ps-sign-out').hidden = true;
    document.body.classList.add('ps-signed-out');
    document.title = 'Sign in · Workflow Studio';
    const error = $('ps-sign-in-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('ps-sign-in').hidden = false;
    $('ps-api-key').focus();
  }

  function showLoading(text) {
    $('ps-loading-text').textContent = text;
    $('ps-loading').hidden = false;
  }

  function showProblem(text) {
    showLoading(text);
    $('ps-loading').classList.add('ps-problem');
  }

  function markSection(section) {
    for (const a of document.querySelectorAll('.ps-nav a')) {
      if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  // ---- Studio element -----------------------------------------------------------------------------------

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.async = false;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error('Could not load ' + src));
      document.body.appendChild(script);
    });
  }

  // Callback arguments arrive as the .NET value: an id string, or an object carrying it.
  function idFrom(arg, ...names) {
    if (arg == null) return null;
    if (typeof arg === 'string' || typeof arg === 'number') return String(arg);
    for (const name of names) if (arg[name] != null) return String(arg[name]);
    return null;
  }

  function navigate(path) {
    location.assign(path);
  }

  const callbacks = {
    editWorkflowDefinition(arg) {
      const id = idFrom(arg, 'definitionId', 'workflowDefinitionId', 'id');
      if (id) navigate('/workflows/definitions/' + encodeURIComponent(id) + '/edit');
    },
    viewWorkflowInstance(arg) {
      const id = idFrom(arg, 'instanceId', 'workflowInstanceId', 'id');
      if (id) navigate('/workflows/instances/' + encodeURIComponent(id) + '/view');
    },
  };

  // The Studio navigates by itself too (e.g. to workflows/instances/{id}/view after a run) with
  // history.pushState, which renders nothing without a Blazor router: load the page of the new URL instead.
  function followStudioNavigation(bootPath) {
    const check = () => {
      if (location.pathname !== bootPath && matchRoute(location.pathname)) location.reload();
    };
    for (const name of ['pushState', 'replaceState']) {
      const original = history[name];
      history[name] = function (...args) {
        const result = original.apply(this, args);
        setTimeout(check, 0);
        return result;
      };
    }
    window.addEventListener('popstate', check);
  }

  // Headings of the Studio's pages that read badly, and what we show instead. The bundle stays unmodified: the text of the
  // heading's own text node is replaced (Blazor keeps the node, so later renders of the same text leave ours alone).
  const HEADINGS = { 'Workflow definitions Editor': 'Workflow definitions' };

  function fixHeadings(element) {
    let queued = false;
    const fix = () => {
      queued = false;
      for (const heading of element.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
        for (const node of heading.childNodes) {
          const better = node.nodeType === Node.TEXT_NODE ? HEADINGS[node.data.trim()] : undefined;
          if (better) node.data = better;
        }
      }
    };
    new MutationObserver(() => {
      if (!queued) { queued = true; requestAnimationFrame(fix); }
    }).observe(element, { childList: true, subtree: true, characterData: true });
  }

  function whenRendered(element) {
    return new Promise((resolve) => {
      if (element.childElementCount > 0) { resolve(); return; }
      const observer = new MutationObserver(() => {
        if (element.childElementCount > 0) { observer.disconnect(); resolve(); }
      });
      observer.observe(element, { childList: true });
    });
  }

  // ---- Nodes with many ports -------------------------------------------------------------------------------

  // The designer spreads a node's outbound ports along its right edge and sizes the node by measuring its rendered
  // content, also when it is dropped from the palette (a stored metadata.designer.size only counts once the workflow
  // is loaded again). A min-height per activity type with many ports (e.g. "Recognize Intent: <set>", one port per
  // intent) makes that measurement tall enough for each port to be hit and its label read: 26 px per port, the height
  // the server's DesignerSizes stores on save, so dropped and loaded nodes get the same size.
  const PORT_SPACING = 26;
  const MIN_PORTS_TO_SIZE = 4;

  function cssString(s) {
    return '"' + s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\a ') + '"';
  }

  async function sizeManyPortNodes(key) {
    try {
      const response = await fetch(API_ENDPOINT + '/descriptors/activities', {
        headers: { Authorization: 'ApiKey ' + key }, cache: 'no-store', credentials: 'omit',
      });
      if (!response.ok) return;
      const { items = [] } = await response.json();
      const rules = items
        .filter((d) => typeof d.typeName === 'string' && Array.isArray(d.ports) && d.ports.length >= MIN_PORTS_TO_SIZE)
        .map((d) => `elsa-activity-wrapper[activity-json*=${cssString('"type":' + JSON.stringify(d.typeName))}] .elsa-activity` +
          ` { min-height: ${(d.ports.length + 1) * PORT_SPACING}px; }`);
      const style = document.createElement('style');
      style.id = 'ps-port-sizes';
      style.textContent = rules.join('\n');
      document.head.appendChild(style);
    } catch {
      // Without the rules a new node is measured from its content; it gets its height when the workflow is loaded again.
    }
  }

  async function startStudio(match, key) {
    const { route, id } = match;
    showLoading('Loading the Studio…');
    const slow = setTimeout(() => showLoading('Still loading the Studio (the first start downloads about 12 MB)…'), 8000);

    const host = $('ps-studio');
    const element = document.createElement(route.tag);
    element.setAttribute('remote-endpoint', API_ENDPOINT);
    // Signed in with a user account, the element sends no key: its HttpClient sends the same-origin cookie.
    if (key !== SESSION) element.setAttribute('api-key', key);
    if (route.idAttribute) element.setAttribute(route.idAttribute, id);
    element.classList.add('ps-element');
    host.appendChild(element);
    fixHeadings(element);

    followStudioNavigation(location.pathname);

    await sizeManyPortNodes(key);
    try {
      for (const src of SCRIPTS) await loadScript(src);
    } catch (e) {
      clearTimeout(slow);
      showProblem(e.message + '. Reload the page to try again.');
      return;
    }

    // Callbacks only work as JS properties set after the element's class is defined by Blazor.
    await customElements.whenDefined(route.tag);
    Object.assign(element, callbacks);

    await whenRendered(element);
    clearTimeout(slow);
    $('ps-loading').hidden = true;
    document.body.classList.add('ps-ready');
  }

  async function main() {
    $('ps-sign-in-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const key = $('ps-api-key').value.trim();
      if (!key) return;
      const button = event.submitter || $('ps-sign-in-form').querySelector('button');
      button.disabled = true;
      const verdict = await checkKey(key);
      button.disabled = false;
      if (verdict === 'rejected') {
        showSignIn('The server did not accept this API key.');
        return;
      }
      storeKey(key, $('ps-remember').checked);
      location.reload();
    });

    takeKeyFromUrl();

    const match = matchRoute(location.pathname);
    if (!match) {
      showProblem('There is no Studio page at this address.');
      return;
    }

    markSection(match.route.section);
    document.title = match.route.title + ' · Workflow Studio';

    const key = readKey();
    if (!key) {
      showSignIn();
      return;
    }

    if (await checkKey(key) === 'rejected') {
      clearKey();
      if (key === SESSION) { location.assign('/signin?returnUrl=' + encodeURIComponent(location.pathname)); return; }
      showSignIn('The stored API key is no longer accepted by the server. Please sign in again.');
      return;
    }

    $('ps-sign-out').hidden = false;
    await startStudio(match, key);
  }

  main();
})();
