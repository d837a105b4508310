// A running bulk fix's page (/bulk/fix/jobs/<id>): updated in place instead of reloaded, so that keyboard and
// screen-reader focus stays where the user left it (a reload sends it back to the top of the page). Every few seconds
// the page itself is fetched again (the server renders each outcome; nothing is duplicated here) and only what changed
// is swapped in: the status, the progress, the counts (a polite live region) and the rows whose outcome came.
// Without script the page reloads itself instead (a <noscript> meta refresh); "Stop updating" (?follow=0) stops both.
(function () {
  'use strict';
  var box = document.getElementById('fix-job');
  if (!box || box.getAttribute('data-follow') !== '1' || !window.fetch || !window.DOMParser) return;
  var id = box.getAttribute('data-fix-job');
  var every = Math.max(2, Number(box.getAttribute('data-refresh')) || 5) * 1000;
  var failures = 0;
  var notesSeen = null;

  function byId(doc, name) {
    return doc.getElementById(name);
  }
  function rowOf(doc, domain) {
    return doc.querySelector('tr[data-domain="' + (window.CSS && CSS.escape ? CSS.escape(domain) : domain) + '"]');
  }
  // Replace `el`'s children with those of `from`, keeping focus: if it was inside, it goes to the job's heading.
  function swapChildren(el, from) {
    var hadFocus = el.contains(document.activeElement);
    el.replaceChildren.apply(el, Array.prototype.map.call(from.childNodes, function (n) { return document.importNode(n, true); }));
    if (hadFocus) {
      var h = byId(document, 'fix-job-heading');
      if (h) h.focus();
    }
  }
  function wordsOf(el) {
    return el.textContent.replace(/\s+/g, ' ').trim();
  }
  function update(doc) {
    var fresh = byId(doc, 'fix-job');
    if (!fresh) return false;
    var status = fresh.getAttribute('data-status');
    var st = byId(document, 'fix-job-status');
    var nst = byId(doc, 'fix-job-status');
    if (st && nst && st.textContent !== nst.textContent) {
      st.textContent = nst.textContent;
      st.className = nst.className;
    }
    var p = byId(document, 'fix-job-progress');
    var np = byId(doc, 'fix-job-progress');
    if (p && np) {
      p.max = np.max;
      p.value = np.value;
      p.textContent = np.textContent;
    }
    // The live region is written only when its words change: a screen reader says each new count once.
    var sum = byId(document, 'fix-job-summary');
    var nsum = byId(doc, 'fix-job-summary');
    if (sum && nsum && sum.textContent !== nsum.textContent) sum.textContent = nsum.textContent;
    // The notes (Stop updating, Cancel, or how the job ended) change rarely: swapped only when they do.
    var notes = byId(document, 'fix-job-notes');
    var nnotes = byId(doc, 'fix-job-notes');
    if (notes && nnotes) {
      // Compared by their words, not their markup, so that nothing under the user's focus is replaced needlessly.
      var words = wordsOf(nnotes);
      if (notesSeen === null) notesSeen = wordsOf(notes);
      if (words !== notesSeen) {
        swapChildren(notes, nnotes);
        notesSeen = words;
      }
    }
    // A row's outcome cell only (the domain's link in the row keeps focus if it has it).
    doc.querySelectorAll('tr[data-domain]').forEach(function (nr) {
      var row = rowOf(document, nr.getAttribute('data-domain'));
      if (!row || row.getAttribute('data-outcome') === nr.getAttribute('data-outcome')) return;
      var cell = row.querySelector('td');
      var ncell = nr.querySelector('td');
      if (cell && ncell) swapChildren(cell, ncell);
      row.setAttribute('data-outcome', nr.getAttribute('data-outcome') || '');
      if (nr.hasAttribute('data-why')) row.setAttribute('data-why', nr.getAttribute('data-why'));
    });
    box.setAttribute('data-status', status || '');
    return status === 'running' || status === 'queued';
  }
  function poll() {
    // The page as it is followed (its "Stop updating" link and Cancel form are the ones swapped in, if they change).
    fetch('/bulk/fix/jobs/' + encodeURIComponent(id), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) {
        if (r.ok) return r.text();
        // Logged out (another tab), no longer allowed, or the job is gone: asking again cannot help.
        if (r.status === 401 || r.status === 403 || r.status === 404) {
          var st = byId(document, 'fix-job-status');
          if (st) st.textContent = r.status === 401 ? 'logged out: reload the page' : 'no longer available';
          return null;
        }
        return Promise.reject(new Error(String(r.status)));
      })
      .then(function (html) {
        if (html === null) return;
        failures = 0;
        var more = update(new DOMParser().parseFromString(html, 'text/html'));
        if (more) setTimeout(poll, every);
      })
      .catch(function () {
        // Network trouble or a server error: try again, a while later each time, up to a minute apart.
        failures++;
        setTimeout(poll, Math.min(60000, every * (1 + failures)));
      });
  }
  setTimeout(poll, every);
})();
