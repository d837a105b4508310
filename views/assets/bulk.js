// The bulk page (and a customer's /domains): select-all (two boxes: the table header's, and one for narrow screens), and each running job's progress polled from /api/jobs/<id>
// with results streamed into the table rows on this page (a domain removed from the panel meanwhile is marked so).
(function () {
  'use strict';
  var LABELS = { fail: 'Fail', warn: 'Warning', unknown: 'Unknown', info: 'OK', pass: 'OK', none: 'Not audited' };
  // Two select-all boxes (the table header's, and the one shown instead on a narrow screen, where the header is
  // hidden): either ticks every domain on the page, and they agree with each other and with the domains' own boxes.
  var alls = document.querySelectorAll('input.select-all');
  function syncAll() {
    var sels = document.querySelectorAll('input.sel');
    var on = 0;
    sels.forEach(function (c) { if (c.checked) on++; });
    alls.forEach(function (a) {
      a.checked = sels.length > 0 && on === sels.length;
      a.indeterminate = on > 0 && on < sels.length;
    });
  }
  alls.forEach(function (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input.sel').forEach(function (c) { c.checked = all.checked; });
      syncAll();
    });
  });
  document.addEventListener('change', function (ev) {
    if (ev.target && ev.target.classList && ev.target.classList.contains('sel')) syncAll();
  });
  function chip(sev) {
    var s = document.createElement('span');
    s.className = 'chip chip-' + sev;
    s.textContent = LABELS[sev] || sev;
    return s;
  }
  // The "Last audit" cell as the page renders it (partials/exact-time.ejs): a <time> saying "just now", and the exact
  // time as text beside it, not only a tooltip (README, accessibility); from the job result's auditedAt.
  function auditedCell(at) {
    var ms = typeof at === 'string' ? Date.parse(at) : NaN;
    if (!isFinite(ms)) return [document.createTextNode('just now')];
    var t = document.createElement('time');
    t.setAttribute('datetime', at);
    t.setAttribute('title', at);
    t.textContent = 'just now';
    var exact = document.createElement('span');
    exact.className = 'exact-time small muted';
    exact.textContent = new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    return [t, exact];
  }
  function updateRow(r) {
    var row = document.querySelector('tr[data-domain="' + (window.CSS && CSS.escape ? CSS.escape(r.domain) : r.domain) + '"]');
    if (!row) return;
    var st = row.querySelector('td.st');
    if (st) st.replaceChildren(chip(r.status));
    row.querySelectorAll('td.chk').forEach(function (td) {
      var sev = r.checks[td.getAttribute('data-check')];
      if (sev) td.replaceChildren(chip(sev));
      else {
        // As the page renders it: the dash is for the eye, the words for screen readers.
        var d = document.createElement('span');
        d.className = 'dash';
        d.setAttribute('aria-hidden', 'true');
        d.textContent = '—';
        var words = document.createElement('span');
        words.className = 'sr-only';
        words.textContent = 'not checked';
        td.replaceChildren(d, words);
      }
    });
    var when = row.querySelector('td.when');
    if (when) when.replaceChildren.apply(when, auditedCell(r.auditedAt));
    row.classList.add('fresh');
  }
  function markGone(r) {
    var row = document.querySelector('tr[data-domain="' + (window.CSS && CSS.escape ? CSS.escape(r.domain) : r.domain) + '"]');
    if (!row) return;
    var st = row.querySelector('td.st');
    if (st) {
      var s = document.createElement('span');
      s.className = 'muted';
      s.textContent = r.reason || 'no longer on the server';
      st.replaceChildren(s);
    }
    row.classList.add('gone');
  }
  // Every job on the page that is still running is polled on its own (a user may have several).
  function watch(box) {
    var id = box.getAttribute('data-job-id');
    var status = box.getAttribute('data-status');
    if (status !== 'running' && status !== 'queued') return;
    var since = 0;
    var gone = false;
    var failures = 0;
    function part(cls) {
      return box.querySelector('.' + cls);
    }
    // Written only when it changes: nothing on the page moves for a poll that brought nothing new.
    function set(cls, v) {
      var el = part(cls);
      if (el && el.textContent !== String(v)) el.textContent = String(v);
    }
    // What screen readers hear (partials/job.ejs job-live, a polite status line): one whole sentence when the job's
    // state changes and when it passes a quarter of its domains — never each number on its own, every second.
    var name = box.getAttribute('data-job-name') || 'Job';
    function quarter(done, total) {
      return total > 0 ? Math.floor((done * 4) / total) : 0;
    }
    function number(cls) {
      var el = part(cls);
      return el ? Number(el.textContent) || 0 : 0;
    }
    var heard = { status: status, quarter: quarter(number('job-done'), number('job-total')) };
    function say(words) {
      var el = part('job-live');
      if (el) el.textContent = name + ' #' + id + ': ' + words;
    }
    function tell(j) {
      var q = quarter(j.done, j.total);
      if (j.status === heard.status && q <= heard.quarter) return;
      heard = { status: j.status, quarter: Math.max(q, heard.quarter) };
      say(j.status + ' — ' + j.done + ' of ' + j.total + ' domains done, ' + j.failed + ' failing' + (j.gone ? ', ' + j.gone + ' no longer on the server or in your scope' : '') + '.');
    }
    function poll() {
      fetch('/api/jobs/' + encodeURIComponent(id) + '?since=' + since, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (r.ok) return r.json();
          // Logged out (another tab), no longer allowed, or the job is gone: polling again cannot help.
          if (r.status === 401 || r.status === 403 || r.status === 404) {
            gone = true;
            var why = r.status === 401 ? 'logged out: reload the page' : 'no longer available';
            set('job-status', why);
            say(why + '.');
          }
          return Promise.reject(new Error(String(r.status)));
        })
        .then(function (j) {
          var p = part('job-progress');
          if (p && (p.value !== j.done || p.max !== Math.max(j.total, 1))) { p.max = Math.max(j.total, 1); p.value = j.done; p.textContent = j.done + ' of ' + j.total; }
          set('job-done', j.done);
          set('job-total', j.total);
          set('job-failed', j.failed);
          set('job-gone', j.gone || 0);
          var gt = part('job-gone-text');
          if (gt) gt.hidden = !j.gone;
          set('job-status', j.status);
          var st = part('job-status');
          if (st) st.className = 'state state-' + j.status + ' job-status';
          tell(j);
          j.results.forEach(function (r) {
            if (r.status === 'gone') markGone(r);
            else updateRow(r);
          });
          since = j.next;
          failures = 0;
          box.setAttribute('data-status', j.status);
          if (j.status === 'running' || j.status === 'queued') setTimeout(poll, 1000);
          else {
            var c = part('job-cancel');
            if (c) c.remove();
          }
        })
        .catch(function () {
          // Network trouble or a server error: try again, a while later each time, up to a minute apart.
          if (gone) return;
          failures++;
          setTimeout(poll, Math.min(60000, 5000 * failures));
        });
    }
    poll();
  }
  document.querySelectorAll('section.job[data-job-id]').forEach(watch);
})();
