// Embeds the platform's web chat on any site:
//   <script src="https://<platform-host>/chat/widget.js" data-channel="web" async></script>
// Adds a floating chat button that opens the chat page of the platform in an iframe. Optional attributes:
// data-title (the frame's title), data-position="left" (default right), data-color (the button colour).
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__platformChatWidget) return;
  window.__platformChatWidget = true;

  var origin = new URL(script.src, location.href).origin;
  var channel = script.getAttribute('data-channel') || 'web';
  var title = script.getAttribute('data-title') || 'Chat';
  var side = script.getAttribute('data-position') === 'left' ? 'left' : 'right';
  var color = script.getAttribute('data-color') || '#0b5cad';
  var frame = null;
  var open = false;

  function style(el, values) { Object.keys(values).forEach(function (k) { el.style[k] = values[k]; }); }

  var button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('data-platform-chat', 'button');
  button.setAttribute('aria-label', 'Open the chat');
  button.setAttribute('aria-expanded', 'false');
  button.textContent = '\uD83D\uDCAC';
  style(button, {
    position: 'fixed', bottom: '20px', width: '56px', height: '56px', borderRadius: '50%', border: '0', background: color,
    color: '#fff', fontSize: '26px', lineHeight: '56px', cursor: 'pointer', boxShadow: '0 4px 14px rgba(0,0,0,.25)', zIndex: '2147483000', padding: '0'
  });
  button.style[side] = '20px';

  function toggle() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.src = origin + '/chat?channel=' + encodeURIComponent(channel) + '&embed=1';
      frame.title = title;
      frame.setAttribute('data-platform-chat', 'frame');
      style(frame, {
        position: 'fixed', bottom: '88px', width: 'min(380px, calc(100vw - 40px))', height: 'min(560px, calc(100vh - 120px))',
        border: '1px solid #d0d7de', borderRadius: '12px', boxShadow: '0 8px 30px rgba(0,0,0,.2)', background: '#fff', zIndex: '2147483000'
      });
      frame.style[side] = '20px';
      document.body.appendChild(frame);
    }
    open = !open;
    frame.style.display = open ? 'block' : 'none';
    button.setAttribute('aria-expanded', String(open));
    button.setAttribute('aria-label', open ? 'Close the chat' : 'Open the chat');
    button.textContent = open ? '\u2715' : '\uD83D\uDCAC';
  }

  button.addEventListener('click', toggle);
  function mount() { document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
