// The web chat page: connects to /ws/chat, keeps the conversation token and the visitor's own messages in
// localStorage, gets the assistant's replies (and, after a reload or reconnect, the ones it missed) from the server.
// Protocol: docs/channels.md, "Web chat". Text is rendered with DOM nodes only (never innerHTML).
(function () {
  'use strict';

  var root = document.getElementById('chat');
  var channel = root.getAttribute('data-channel') || 'web';
  var storeKey = 'platform-chat:' + channel;
  var list = document.getElementById('chat-messages');
  var typing = document.getElementById('chat-typing');
  var quick = document.getElementById('chat-quick');
  var form = document.getElementById('chat-form');
  var input = document.getElementById('chat-input');
  var status = document.getElementById('chat-status');
  var attach = document.getElementById('chat-attach');
  var fileInput = document.getElementById('chat-file');
  var uploadBox = document.getElementById('chat-upload');
  var uploadName = document.getElementById('chat-upload-name');
  var progress = document.getElementById('chat-progress');

  var state = load();
  var items = {};
  var lastSeen = null;
  var socket = null;
  var attempts = 0;
  var typingTimer = null;
  var lastTypingSent = 0;
  var maxLength = 4096;
  var maxFileBytes = 0; // from the welcome frame; 0: this server takes no files

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(storeKey) || '{}');
      return { token: typeof s.token === 'string' ? s.token : null, sent: Array.isArray(s.sent) ? s.sent : [] };
    } catch (e) {
      return { token: null, sent: [] };
    }
  }

  function save() {
    state.sent = state.sent.slice(-200);
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode: the chat still works */ }
  }

  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }

  function setStatus(text) { status.textContent = text; }

  // ---- Rendering --------------------------------------------------------------------------------------------------

  var inlineSource = ([
    '(`[^`\\n]+`)',
    '(\\*\\*[^*\\n]+\\*\\*|__[^_\\n]+__)',
    '(~~[^~\\n]+~~)',
    '(\\*[^*\\s][^*\\n]*\\*|_[^_\\s][^_\\n]*_)',
    '(\\[[^\\]\\n]+\\]\\((?:https?:\\/\\/|mailto:)[^\\s)]+\\))',
    '(https?:\\/\\/[^\\s<]*[^\\s<.,;:!?)\\]\'"])'
  ]).join('|');

  function inline(text, parent) {
    var inlinePattern = new RegExp(inlineSource, 'g'); // one per call: the calls nest
    var last = 0;
    var match;
    while ((match = inlinePattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var m = match[0];
      var el;
      if (match[1]) { el = document.createElement('code'); el.textContent = m.slice(1, -1); }
      else if (match[2]) { el = document.createElement('strong'); inline(m.slice(2, -2), el); }
      else if (match[3]) { el = document.createElement('s'); inline(m.slice(2, -2), el); }
      else if (match[4]) { el = document.createElement('em'); inline(m.slice(1, -1), el); }
      else if (match[5]) {
        var split = m.lastIndexOf('](');
        el = link(m.slice(split + 2, -1));
        inline(m.slice(1, split), el);
      } else { el = link(m); el.textContent = m; }
      parent.appendChild(el);
      last = match.index + m.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function link(url) {
    var a = document.createElement('a');
    if (/^(https?:\/\/|mailto:)/i.test(url)) a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  // A pipe table: a header row, a |---|:--:| separator, then rows. Cells are set with textContent, never as HTML.
  function cellsOf(line) {
    var t = line.trim().replace(/^\|/, '').replace(/\|$/, '');
    return t.split(/(?<!\\)\|/).map(function (c) { return c.trim().replace(/\\\|/g, '|'); });
  }

  function tableOf(lines) {
    var start = 0;
    while (start < lines.length && lines[start].indexOf('|') < 0) start++;
    if (lines.length - start < 2 || !/^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/.test(lines[start + 1])) return null;
    var wrap = document.createElement('div');
    wrap.className = 'table';
    if (start > 0) {
      var p = document.createElement('p');
      lines.slice(0, start).forEach(function (l, n) { if (n > 0) p.appendChild(document.createElement('br')); inline(l, p); });
      wrap.appendChild(p);
    }
    var table = document.createElement('table');
    var head = document.createElement('tr');
    cellsOf(lines[start]).forEach(function (c) { var th = document.createElement('th'); inline(c, th); head.appendChild(th); });
    var thead = document.createElement('thead'); thead.appendChild(head); table.appendChild(thead);
    var tbody = document.createElement('tbody');
    lines.slice(start + 2).forEach(function (l) {
      if (!l.trim()) return;
      var tr = document.createElement('tr');
      cellsOf(l).forEach(function (c) { var td = document.createElement('td'); inline(c, td); tr.appendChild(td); });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    return wrap;
  }

  function renderMarkdown(text, parent) {
    var parts = String(text).replace(/\r\n?/g, '\n').split(/^```[^\n]*\n([\s\S]*?)^```\s*$/m);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var pre = document.createElement('pre');
        var code = document.createElement('code');
        code.textContent = part.replace(/\n$/, '');
        pre.appendChild(code);
        parent.appendChild(pre);
        return;
      }
      part.split(/\n{2,}/).forEach(function (block) {
        if (!block.trim()) return;
        var lines = block.split('\n');
        var table = tableOf(lines);
        if (table) { parent.appendChild(table); return; }
        if (lines.every(function (l) { return /^\s*([-*+]|\d+[.)])\s+/.test(l); })) {
          var ordered = /^\s*\d/.test(lines[0]);
          var listEl = document.createElement(ordered ? 'ol' : 'ul');
          lines.forEach(function (l) {
            var li = document.createElement('li');
            inline(l.replace(/^\s*([-*+]|\d+[.)])\s+/, ''), li);
            listEl.appendChild(li);
          });
          parent.appendChild(listEl);
          return;
        }
        var p = document.createElement('p');
        lines.forEach(function (l, n) {
          if (n > 0) p.appendChild(document.createElement('br'));
          var heading = /^#{1,6}\s+(.*)$/.exec(l);
          if (heading) { var strong = document.createElement('strong'); inline(heading[1], strong); p.appendChild(strong); }
          else inline(l.replace(/^>\s?/, ''), p);
        });
        parent.appendChild(p);
      });
    });
  }

  // A size for people, as the server writes it: 62 MB, 512 KB, 900 bytes (1 MB = 1,048,576 bytes).
  function size(bytes) {
    if (bytes >= 1048576) return (Math.round(bytes / 104857.6) / 10) + ' MB';
    if (bytes >= 1024) return (Math.round(bytes / 102.4) / 10) + ' KB';
    return bytes + ' bytes';
  }

  // Files of a message: images inline (a link to the full file around them), other files as a link with name and size.
  function renderFiles(files, parent) {
    if (!files || !files.length) return;
    var box = document.createElement('div');
    box.className = 'chat-files';
    files.forEach(function (f) {
      if (!f || typeof f.url !== 'string' || f.url.indexOf('/chat/files/') !== 0 && !/^https?:\/\//i.test(f.url)) return;
      var a = document.createElement('a');
      a.href = f.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      if (f.image) {
        var img = document.createElement('img');
        img.className = 'chat-image';
        img.src = f.url;
        img.alt = f.name || 'image';
        a.appendChild(img);
      } else {
        a.className = 'chat-file';
        a.setAttribute('download', f.name || 'file');
        a.textContent = (f.name || 'file') + (f.size >= 0 ? ' (' + size(f.size) + ')' : '');
      }
      box.appendChild(a);
    });
    parent.appendChild(box);
  }

  function add(item) {
    if (items[item.id]) return items[item.id];
    var li = document.createElement('li');
    li.className = 'chat-msg ' + item.kind + (item.agent ? ' agent' : '');
    li.setAttribute('data-id', item.id);
    if (item.agent) {
      // Written by a person who took over the conversation, not by the assistant.
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = item.agent + ' (agent)';
      li.appendChild(who);
    }
    if (item.kind === 'bot') renderMarkdown(item.text, li);
    else if (item.text) {
      var body = document.createElement('span');
      body.className = 'text';
      body.textContent = item.text;
      li.appendChild(body);
    }
    renderFiles(item.files, li);
    if (item.kind === 'user') {
      var meta = document.createElement('span');
      meta.className = 'meta';
      li.appendChild(meta);
    }
    item.el = li;
    items[item.id] = item;
    var before = null;
    var children = list.children;
    for (var i = children.length - 1; i >= 0; i--) {
      var other = items[children[i].getAttribute('data-id')];
      if (!other || other.at <= item.at) break;
      before = children[i];
    }
    list.insertBefore(li, before);
    if (item.kind === 'user') markDelivered(item, item.delivered);
    scrollToNewest();
    return item;
  }

  // The newest message stays in view: after each message, and whenever the list's box changes size (quick replies or the
  // typing dots appearing below it, a narrower window, the on-screen keyboard) while the visitor was at the bottom.
  var atBottom = true;
  function scrollToNewest() {
    list.scrollTop = list.scrollHeight;
    atBottom = true;
  }
  list.addEventListener('scroll', function () {
    atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  });
  if (window.ResizeObserver) {
    new ResizeObserver(function () { if (atBottom) list.scrollTop = list.scrollHeight; }).observe(list);
  }

  function markDelivered(item, delivered) {
    item.delivered = !!delivered;
    var meta = item.el && item.el.querySelector('.meta');
    if (meta) meta.textContent = delivered ? '✓ delivered' : 'sending…';
  }

  function note(text) {
    var li = document.createElement('li');
    li.className = 'chat-msg system';
    li.textContent = text;
    list.appendChild(li);
    scrollToNewest();
  }

  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 5000);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  function showQuickReplies(replies) {
    quick.textContent = '';
    (replies || []).forEach(function (q) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = q.label;
      b.addEventListener('click', function () { quick.textContent = ''; send(q.value); });
      quick.appendChild(b);
    });
    scrollToNewest();
  }

  function dropPartial(id) {
    var partial = items[id];
    if (!partial || !partial.partial) return;
    partial.el.remove();
    delete items[id];
  }

  function isNewest(item) { return list.lastElementChild === item.el; }

  // ---- Socket -----------------------------------------------------------------------------------------------------

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws/chat?channel=' + encodeURIComponent(channel);
    if (state.token) url += '&token=' + encodeURIComponent(state.token);
    if (lastSeen) url += '&lastSeen=' + encodeURIComponent(lastSeen);
    setStatus(attempts ? 'Reconnecting…' : 'Connecting…');
    socket = new WebSocket(url);
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function () {
      socket = null;
      hideTyping();
      // A reply that was being written is not resumed: the final one comes with the replay.
      Object.keys(items).forEach(dropPartial);
      setStatus('Offline, reconnecting…');
      var delay = Math.min(15000, 500 * Math.pow(2, attempts++)) + Math.floor(Math.random() * 300);
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case 'welcome':
        attempts = 0;
        if (!frame.resumed && state.token && state.token !== frame.token) {
          // The old conversation is gone (invalid token): start over.
          state.sent = [];
          Object.keys(items).forEach(function (id) { items[id].el.remove(); });
          items = {};
          lastSeen = null;
        }
        state.token = frame.token;
        if (frame.maxMessageLength) { maxLength = frame.maxMessageLength; input.maxLength = maxLength; }
        maxFileBytes = frame.maxAttachmentBytes || 0;
        attach.hidden = !maxFileBytes;
        save();
        setStatus('Online');
        state.sent.forEach(function (m) { if (!m.delivered) transmit(m); });
        break;
      case 'partial':
        // A reply being written: the bubble grows with each frame (text so far); the final 'message' replaces it.
        hideTyping();
        if (frame.discarded) { dropPartial(frame.id); break; }
        var partial = items[frame.id];
        if (partial && partial.partial) {
          partial.el.textContent = '';
          renderMarkdown(frame.text || '', partial.el);
          if (atBottom) scrollToNewest();
        } else if (!partial) {
          partial = add({ kind: 'bot', id: frame.id, text: frame.text || '', at: new Date().toISOString() });
          partial.partial = true;
          partial.el.classList.add('partial');
          partial.el.setAttribute('aria-busy', 'true');
        }
        break;
      case 'message':
        hideTyping();
        if (frame.replaces) dropPartial(frame.replaces);
        if (items[frame.id]) break;
        var item = add({ kind: 'bot', id: frame.id, text: frame.text || frame.plainText || '', at: frame.at || new Date().toISOString(),
          agent: typeof frame.agent === 'string' ? frame.agent : null, files: frame.attachments });
        lastSeen = frame.id;
        if (isNewest(item)) showQuickReplies(frame.quickReplies);
        break;
      case 'delivered':
        var sent = items[frame.id];
        if (sent) markDelivered(sent, true);
        state.sent.forEach(function (m) { if (m.id === frame.id) m.delivered = true; });
        save();
        break;
      case 'typing':
        showTyping();
        break;
      case 'ping':
        send_({ type: 'pong' });
        break;
      case 'error':
        if (frame.id) {
          state.sent = state.sent.filter(function (m) { return m.id !== frame.id; });
          save();
          if (items[frame.id]) { items[frame.id].el.classList.add('failed'); markDelivered(items[frame.id], false); items[frame.id].el.querySelector('.meta').textContent = 'not sent'; }
        }
        note(frame.code === 'invalid_token' ? 'Your earlier conversation could not be resumed; a new one has started.' : frame.message);
        break;
    }
  }

  function send_(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function transmit(m) {
    var frame = { type: 'message', id: m.id, text: m.text };
    if (m.files && m.files.length) frame.attachments = m.files.map(function (f) { return f.file; });
    send_(frame);
  }

  function send(text) {
    text = String(text || '').trim();
    if (!text) return;
    if (text.length > maxLength) { note('The message is too long (at most ' + maxLength + ' characters).'); return; }
    var m = { id: newId(), text: text, at: new Date().toISOString(), delivered: false };
    state.sent.push(m);
    save();
    add({ kind: 'user', id: m.id, text: m.text, at: m.at, delivered: false });
    quick.textContent = '';
    transmit(m);
  }

  // ---- Files: the attach button, paste and drop. The size is checked here first; the server checks it again. ----------

  function sendFile(uploaded) {
    var m = { id: newId(), text: '', files: [uploaded], at: new Date().toISOString(), delivered: false };
    state.sent.push(m);
    save();
    add({ kind: 'user', id: m.id, text: '', files: m.files, at: m.at, delivered: false });
    quick.textContent = '';
    transmit(m);
  }

  function upload(file) {
    if (!file) return;
    if (!maxFileBytes) { note('This chat does not take files.'); return; }
    if (file.size > maxFileBytes) { note('That file is too large (' + size(file.size) + '); the limit is ' + size(maxFileBytes) + '.'); return; }
    if (!state.token) { note('Not connected yet; try again in a moment.'); return; }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/chat/upload?channel=' + encodeURIComponent(channel) + '&token=' + encodeURIComponent(state.token) +
      '&name=' + encodeURIComponent(file.name || 'file'));
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    uploadName.textContent = 'Sending ' + (file.name || 'file') + ' (' + size(file.size) + ')';
    progress.value = 0;
    uploadBox.hidden = false;
    attach.disabled = true;
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total); };
    xhr.onloadend = function () {
      uploadBox.hidden = true;
      attach.disabled = false;
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && answer && answer.file) sendFile(answer);
      else note((answer && (answer.detail || answer.title)) || 'The file could not be sent.');
    };
    xhr.send(file);
  }

  attach.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    if (fileInput.files && fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = '';
  });
  input.addEventListener('paste', function (e) {
    var files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); upload(files[0]); }
  });
  root.addEventListener('dragover', function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], 'Files') >= 0) { e.preventDefault(); root.classList.add('dragging'); }
  });
  root.addEventListener('dragleave', function () { root.classList.remove('dragging'); });
  root.addEventListener('drop', function (e) {
    root.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) { e.preventDefault(); upload(e.dataTransfer.files[0]); }
  });

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    send(input.value);
    input.value = '';
    input.focus();
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener('input', function () {
    var now = Date.now();
    if (now - lastTypingSent > 3000 && input.value) { lastTypingSent = now; send_({ type: 'typing' }); }
  });

  state.sent.forEach(function (m) { add({ kind: 'user', id: m.id, text: m.text, files: m.files, at: m.at, delivered: m.delivered }); });
  connect();
})();
