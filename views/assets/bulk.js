// The bulk page: select-all, and a running job's progress polled from /api/jobs/<id> with results streamed into
// the table rows on this page.
(function () {
  'use strict';
  var LABELS = { fail: 'Fail', warn: 'Warning', unknown: 'Unknown', info: 'OK', pass: 'OK', none: 'Not audited' };
  var all = document.getElementById('select-all');
  if (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input.sel').forEach(function (c) { c.checked = all.checked; });
    });
  }
  function chip(sev) {
    var s = document.createElement('span');
    s.className = 'chip chip-' + sev;
    s.textContent = LABELS[sev] || sev;
    return s;
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
        var d = document.createElement('span');
        d.className = 'dash';
        d.textContent = '—';
        td.replaceChildren(d);
      }
    });
    var when = row.querySelector('td.when');
    if (when) when.textContent = 'just now';
    row.classList.add('fresh');
  }
  var box = document.getElementById('job');
  if (!box || !box.getAttribute('data-job-id')) return;
  var id = box.getAttribute('data-job-id');
  var status = box.getAttribute('data-status');
  if (status !== 'running' && status !== 'queued') return;
  var since = 0;
  var gone = false;
  var failures = 0;
  function set(idName, v) {
    var el = document.getElementById(idName);
    if (el) el.textContent = String(v);
  }
  function poll() {
    fetch('/api/jobs/' + encodeURIComponent(id) + '?since=' + since, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.ok) return r.json();
        // Logged out (another tab), no longer allowed, or the job is gone: polling again cannot help.
        if (r.status === 401 || r.status === 403 || r.status === 404) {
          gone = true;
          set('job-status', r.status === 401 ? 'logged out: reload the page' : 'no longer available');
        }
        return Promise.reject(new Error(String(r.status)));
      })
      .then(function (j) {
        var p = document.getElementById('job-progress');
        if (p) { p.max = Math.max(j.total, 1); p.value = j.done; p.textContent = j.done + ' of ' + j.total; }
        set('job-done', j.done);
        set('job-total', j.total);
        set('job-failed', j.failed);
        set('job-status', j.status);
        var st = document.getElementById('job-status');
        if (st) st.className = 'state state-' + j.status;
        j.results.forEach(updateRow);
        since = j.next;
        failures = 0;
        if (j.status === 'running' || j.status === 'queued') setTimeout(poll, 1000);
        else {
          var c = document.getElementById('job-cancel');
          if (c) c.remove();
          box.setAttribute('data-status', j.status);
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
})();
