// Progressive enhancement only: every page works without it. No inline script (CSP: script-src 'self').
(function () {
  'use strict';
  function copyText(text, button) {
    var done = function () {
      var old = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }
  function fallback(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'absolute';
    ta.style.left = '-9999px';
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(ta);
  }
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('button.copy');
    if (!b) return;
    var el = document.getElementById(b.getAttribute('data-copy'));
    if (el) copyText(el.textContent, b);
  });
  // Ticking an unknown SPF term re-computes the preview (the button stays for keyboard and no-JS users).
  var terms = document.getElementById('terms');
  if (terms) {
    terms.addEventListener('change', function (ev) {
      if (ev.target && ev.target.name === 'remove') terms.submit();
    });
  }
})();
