/* redline's web page: a few functions over the JSON API, no framework, no build step.
   Every piece of text from a scenario is put in the page as text (textContent), never as markup. */
"use strict";
var redline = (function () {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* a JSON request; resolves to {ok, status, body} whatever the status */
  function api(method, url, body) {
    var init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        return { ok: r.ok, status: r.status, body: b };
      });
    });
  }
  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
  }
  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* ------------------------------------------------------------------ library */
  function library() {
    $all(".scenario .duplicate").forEach(function (b) {
      b.addEventListener("click", function () {
        var card = b.closest(".scenario");
        var target = window.prompt("Save a copy as (file name in the workspace):", card.dataset.name.replace(/\.ya?ml$/, "") + "-copy.yaml");
        if (target) copy(card.dataset.kind, card.dataset.name, target, null);
      });
    });
    var form = $("#create");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      copy("builtin", form.base.value, form.name.value, $(".message", form));
    });
  }
  function copy(kind, name, target, message) {
    return api("GET", "/api/scenarios/" + kind + "/" + encodeURIComponent(name)).then(function (r) {
      if (!r.ok) { say(message, r.body.detail || "cannot read", true); return; }
      return api("PUT", "/api/scenarios/workspace/" + encodeURIComponent(target), { text: r.body.text, new: true }).then(function (w) {
        if (!w.ok) { say(message, w.body.detail || "cannot save", true); if (!message) window.alert(w.body.detail); return; }
        window.location = "/scenarios/workspace/" + encodeURIComponent(target);
      });
    });
  }

  /* ------------------------------------------------------------------ editor */
  /* one line of YAML as HTML: a key, strings, numbers and a comment coloured, all escaped */
  function highlightLine(line) {
    var out = "", rest = line, m;
    var key = /^(\s*(?:-\s+)?)([A-Za-z_][\w.\-]*)(:)(?=\s|$)/.exec(rest);
    if (key) {
      out += escapeHtml(key[1]) + '<span class="k">' + escapeHtml(key[2]) + "</span>:";
      rest = rest.slice(key[0].length);
    }
    var token = /("(?:[^"\\]|\\.)*"?|(?:^|(?<=[\s\[{,:]))'[^']*'?)|((?:^|\s)#.*$)|(-?\b\d+(?:\.\d+)?(?:[eE]-?\d+)?\b)/g;
    var last = 0;
    while ((m = token.exec(rest)) !== null) {
      if (m[0].length === 0) { token.lastIndex++; continue; }
      out += escapeHtml(rest.slice(last, m.index));
      out += '<span class="' + (m[1] ? "s" : m[2] ? "c" : "n") + '">' + escapeHtml(m[0]) + "</span>";
      last = token.lastIndex;
    }
    return out + escapeHtml(rest.slice(last));
  }
  function editor(cfg) {
    var source = $("#source"), pre = $("#highlight"), gutter = $("#gutter");
    var issuesList = $("#issues"), state = $("#check-state");
    var bad = {}, sequence = 0, timer = null;
    function paint() {
      var lines = source.value.split("\n");
      pre.innerHTML = lines.map(function (l, i) {
        return '<span class="line' + (bad[i + 1] ? " error-line" : "") + '">' + highlightLine(l) + "\n</span>";
      }).join("");
      gutter.innerHTML = lines.map(function (_, i) {
        var n = i + 1;
        return '<span class="' + (bad[n] ? "error" : "") + '" data-line="' + n + '">' + n + "</span>";
      }).join("");
      sync();
    }
    function sync() { pre.scrollTop = source.scrollTop; pre.scrollLeft = source.scrollLeft; gutter.scrollTop = source.scrollTop; }
    function show(result) {
      bad = {};
      issuesList.innerHTML = "";
      result.issues.forEach(function (issue) {
        if (issue.line) bad[issue.line] = true;
        var li = document.createElement("li");
        li.className = "issue";
        li.dataset.line = issue.line;
        var where = document.createElement("b");
        where.textContent = issue.line ? "line " + issue.line : "file";
        li.appendChild(where);
        li.appendChild(document.createTextNode(": " + (issue.path ? issue.path + ": " : "") + issue.message));
        li.addEventListener("click", function () { goTo(issue.line); });
        issuesList.appendChild(li);
      });
      say(state, result.valid ? (result.summary || "valid") : result.issues.length + " problem" + (result.issues.length === 1 ? "" : "s"), !result.valid);
      state.dataset.valid = result.valid ? "yes" : "no";
      paint();
    }
    function goTo(line) {
      if (!line) return;
      var lines = source.value.split("\n"), at = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
      source.focus();
      source.setSelectionRange(at, at + (lines[line - 1] || "").length);
      source.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(source).lineHeight));
      sync();
    }
    function check() {
      var mine = ++sequence;
      say(state, "checking…");
      state.dataset.valid = "";
      api("POST", "/api/check", { text: source.value, kind: cfg.kind, name: cfg.name }).then(function (r) {
        if (mine !== sequence) return;  // a newer text is being checked
        if (r.ok) show(r.body); else say(state, r.body.detail || "cannot check", true);
      });
    }
    source.addEventListener("input", function () { paint(); clearTimeout(timer); timer = setTimeout(check, 300); });
    source.addEventListener("scroll", sync);
    source.addEventListener("keydown", function (e) {
      if (e.key === "Tab") {  // two spaces, as YAML wants
        e.preventDefault();
        var s = source.selectionStart;
        source.setRangeText("  ", s, source.selectionEnd, "end");
        source.dispatchEvent(new Event("input"));
      }
    });
    function save(name, isNew) {
      var out = $("#save-state");
      say(out, "saving…");
      return api("PUT", "/api/scenarios/workspace/" + encodeURIComponent(name), { text: source.value, new: isNew }).then(function (r) {
        if (!r.ok) { say(out, r.body.detail || "not saved", true); return false; }
        say(out, "saved " + name + (r.body.valid ? "" : " (with problems)"));
        return true;
      });
    }
    var saveButton = $("#save");
    if (saveButton) saveButton.addEventListener("click", function () {
      save(cfg.name, false).then(function (ok) { if (ok) window.location.reload(); });
    });
    $("#save-as").addEventListener("click", function () {
      var name = $("#save-as-name").value.trim();
      if (!name) { say($("#save-state"), "give a file name (name.yaml)", true); return; }
      save(name, true).then(function (ok) { if (ok) window.location = "/scenarios/workspace/" + encodeURIComponent(name); });
    });
    var form = $("#run");
    if (form) form.addEventListener("submit", function (e) {
      e.preventDefault();
      var levers = {};
      $all("select", form).forEach(function (sel) {
        if (sel.name.indexOf("lever:") === 0 && sel.value) levers[sel.name.slice(6)] = sel.value;
      });
      var body = {
        kind: form.dataset.kind, name: form.dataset.name, levers: levers,
        lens: form.lens.value || null, runs: parseInt(form.runs.value, 10),
        seed: parseInt(form.seed.value, 10), backend: form.backend.value
      };
      api("POST", "/api/runs", body).then(function (r) {
        if (r.ok) window.location = "/runs/" + encodeURIComponent(r.body.id);
        else say($(".message", form), r.body.detail || "not started", true);
      });
    });
    paint();
    check();
  }

  /* ------------------------------------------------------------------ a run's progress */
  var FINISHED = { done: 1, stopped: 1, failed: 1, cancelled: 1 };
  function run(id) {
    var bar = $("#bar"), percent = $("#percent"), stateEl = $("#state"), position = $("#position");
    var events = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
    events.onmessage = function (e) {
      var s = JSON.parse(e.data);
      var p = Math.floor(100 * s.fraction);
      bar.style.width = p + "%";
      percent.textContent = p + "%";
      stateEl.textContent = s.state;
      position.textContent = s.state === "queued" ? "· position " + s.position + " in the queue" : (s.total ? "· " + s.done.toLocaleString() + " of " + s.total.toLocaleString() + " runs" : "");
      say($("#message"), s.message, s.state === "failed");
      if (FINISHED[s.state]) {
        events.close();
        $("#cancel").disabled = true;
        if (s.state === "done") $("#results").hidden = false;
      }
    };
    $("#cancel").addEventListener("click", function () { api("DELETE", "/api/runs/" + encodeURIComponent(id)); });
  }

  /* ------------------------------------------------------------------ analyses */
  function analysis(id) {
    var url = "/api/analyses/" + encodeURIComponent(id);
    function poll() {
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (s) {
        var p = Math.floor(100 * s.fraction);
        $("#bar").style.width = p + "%";
        $("#percent").textContent = p + "%";
        $("#state").textContent = s.state;
        $("#position").textContent = s.state === "queued" ? "· position " + s.position + " in the queue" : (s.total ? "· " + s.done.toLocaleString() + " of " + s.total.toLocaleString() + (s.step ? " " + s.step : "") : "");
        say($("#message"), s.message, s.state === "failed");
        if (s.state === "done") window.location.reload();
        else if (s.state === "queued" || s.state === "running") window.setTimeout(poll, 400);
        else $("#cancel").disabled = true;
      });
    }
    $("#cancel").addEventListener("click", function () { api("DELETE", url); });
    poll();
  }

  /* ------------------------------------------------------------------ experiments */
  function experiments() {
    $all("#experiments .delete").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.closest("tr").dataset.name;
        if (!window.confirm("Delete the experiment " + name + " and all its results?")) return;
        api("DELETE", "/api/experiments/" + encodeURIComponent(name)).then(function (r) {
          if (r.ok) window.location.reload(); else window.alert(r.body.detail);
        });
      });
    });
    $all("#experiments .resume").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.closest("tr").dataset.name;
        api("POST", "/api/experiments/" + encodeURIComponent(name) + "/resume").then(function (r) {
          if (r.ok) window.location = "/runs/" + encodeURIComponent(r.body.id); else window.alert(r.body.detail);
        });
      });
    });
  }

  /* ------------------------------------------------------------------ figures */
  function figures() {
    $all("script.plotly-figure").forEach(function (s) {
      var spec = JSON.parse(s.textContent);
      Plotly.newPlot(s.dataset.target, spec.data, spec.layout, { displaylogo: false, responsive: true });
    });
    $all("button[data-download]").forEach(function (b) {
      b.addEventListener("click", function () {
        Plotly.downloadImage(document.getElementById(b.dataset.download), { format: b.dataset.format, filename: b.dataset.download, width: 1000, height: 600 });
      });
    });
  }

  /* ------------------------------------------------------------------ every table as CSV */
  function csvCell(text) {
    var t = text.replace(/\s+/g, " ").trim();
    /* a cell a spreadsheet would read as a formula is quoted (as redline's CSV exports do);
       a plain number is not a formula and stays a number */
    if (/^[=+\-@\t\r]/.test(t) && !/^[+-]?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(t)) t = "'" + t;
    return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }
  function tablesAsCsv() {
    $all("table.data, .card table, .parts table").forEach(function (table, k) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "csv";
      button.textContent = "CSV";
      button.title = "download this table as CSV";
      button.addEventListener("click", function () {
        var lines = $all("tr", table).map(function (tr) {
          return $all("th, td", tr).map(function (c) { return csvCell(c.textContent); }).join(",");
        });
        var blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = (table.id || (document.title.split(" · ")[0] || "table").replace(/[^\w.-]+/g, "-")) + "-" + (k + 1) + ".csv";
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
      table.parentNode.insertBefore(button, table.nextSibling);
    });
  }
  document.addEventListener("DOMContentLoaded", tablesAsCsv);

  return { library: library, editor: editor, run: run, experiments: experiments, analysis: analysis, figures: figures, highlightLine: highlightLine };
})();
