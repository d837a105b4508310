// Progressive enhancement only: every page works without it. No inline script (CSP: script-src 'self').
(function () {
  'use strict';
  // One polite live region for what a click did ("Copied …"), made now: a region is heard only when it is on the page
  // before its words change. A copy button's own words change too, but a screen reader does not say that.
  var live = null;
  // A copy button does nothing without this script, so the page renders it hidden: shown here, where it works.
  document.querySelectorAll('button.copy[hidden]').forEach(function (b) { b.hidden = false; });
  if (document.querySelector('button.copy')) {
    live = document.createElement('p');
    live.className = 'sr-only';
    live.id = 'copy-status';
    live.setAttribute('role', 'status');
    (document.querySelector('main') || document.body).appendChild(live);
  }
  function copyText(text, button) {
    var done = function () {
      // Only the visible word changes: the words only screen readers get (which record) stay in the button.
      var label = button.querySelector('.copy-label') || button;
      var what = button.querySelector('.sr-only');
      label.textContent = 'Copied';
      if (live) live.textContent = 'Copied' + (what ? what.textContent : '') + ' to the clipboard.';
      setTimeout(function () { label.textContent = 'Copy'; }, 1500);
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
  // A form that applies or undoes a fix is sent once: a second click (or Enter) while the first is on its way does
  // nothing, and its buttons are disabled. (The server answers a preview sent twice with the change it made anyway.)
  function sendsOnce(form) {
    if (!form || !form.getAttribute || (form.getAttribute('method') || '').toLowerCase() !== 'post') return false;
    var action = form.getAttribute('action') || '';
    return (form.classList && form.classList.contains('apply')) || /\/changes\/\d+\/undo$/.test(action) || /\/bulk\/fix\/apply$/.test(action);
  }
  function buttonsOf(form) {
    return form.querySelectorAll('button[type="submit"], input[type="submit"]');
  }
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !sendsOnce(form)) return;
    if (form.getAttribute('data-sent') === '1') {
      ev.preventDefault();
      return;
    }
    form.setAttribute('data-sent', '1');
    var buttons = buttonsOf(form);
    // After this submission has started (a button disabled during the event could drop it from the request).
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
        buttons[i].setAttribute('aria-busy', 'true');
      }
    }, 0);
  });
  // Back on this page from the browser's cache (the Back button): its forms can be sent again.
  window.addEventListener('pageshow', function (ev) {
    if (!ev.persisted) return;
    var sent = document.querySelectorAll('form[data-sent]');
    for (var i = 0; i < sent.length; i++) {
      sent[i].removeAttribute('data-sent');
      var buttons = buttonsOf(sent[i]);
      for (var j = 0; j < buttons.length; j++) {
        buttons[j].disabled = false;
        buttons[j].removeAttribute('aria-busy');
      }
    }
  });
  // A note meant to be seen once (the bulk fix page's "sent again", reached as …?resent=1): the parameter that asked for
  // it is dropped from the address without a reload, so that reloading the page (F5) shows the results without it.
  var once = document.querySelectorAll('[data-drop-query]');
  if (once.length && window.history && history.replaceState && window.URL) {
    try {
      var url = new URL(window.location.href);
      for (var k = 0; k < once.length; k++) url.searchParams.delete(once[k].getAttribute('data-drop-query'));
      history.replaceState(history.state, '', url.pathname + (url.searchParams.toString() ? '?' + url.searchParams.toString() : '') + url.hash);
    } catch (e) { /* the address stays as it is: the note shows again on a reload, nothing worse */ }
  }
  // (Ticking a term to remove does not send the form by itself: the page would reload under the keyboard user's
  // focus after each box, and several boxes could not be ticked before one preview. "Update preview" sends it.)
  // Once a box changes, the Apply button below would still apply the plan previewed with the old ticks: it is
  // disabled until the preview is updated, saying why.
  var terms = document.getElementById('terms');
  var apply = document.getElementById('apply');
  if (terms && apply) {
    terms.addEventListener('change', function (ev) {
      if (!ev.target || ev.target.name !== 'remove' || apply.disabled) return;
      apply.disabled = true;
      // Into the form's status line (partials/apply-form.ejs), which was on the page, empty, from the start: a status
      // element made at this moment, words and all, goes unsaid by most screen readers. Apply is described by it.
      var why = document.getElementById('apply-why');
      if (!why) {
        why = document.createElement('span');
        why.className = 'small';
        why.id = 'apply-why';
        why.setAttribute('role', 'status');
        apply.parentNode.appendChild(why);
      }
      why.textContent = 'The ticks changed: update the preview before applying.';
    });
  }
})();
