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
    /* completion: the language's keys at the cursor's level, the scenario's names in values */
    var box = $("#complete"), offered = [], chosen = 0, span = null, quiet = false;
    function parentKeys(lines, row, indent) {
      var path = [], limit = indent;
      for (var i = row - 1; i >= 0 && limit > 0; i--) {
        var line = lines[i];
        if (/^\s*(#.*)?$/.test(line)) continue;
        var lead = /^ */.exec(line)[0].length;
        var item = /^( *)-( +|$)/.exec(line);
        var key = /^ *(?:- +)?([A-Za-z_][\w.\-]*) *:(?: |$)/.exec(line);
        if (item) {
          var at = item[0].length;
          if (at > limit) continue;
          if (key && at < limit) path.unshift(key[1]);
          limit = Math.min(limit, lead + 1);
        } else if (lead < limit) {
          if (key) path.unshift(key[1]);
          limit = lead;
        }
      }
      return path;
    }
    function keysAt(path) {
      var node = cfg.keys || {};
      for (var i = 0; i < path.length; i++) {
        var next = Object.prototype.hasOwnProperty.call(node, path[i]) ? node[path[i]] : node["*"];
        if (!next) return [];
        node = next;
      }
      return Object.keys(node).filter(function (k) { return k !== "*"; });
    }
    function hide() { box.hidden = true; offered = []; }
    function offer(force) {
      var at = source.selectionStart;
      if (at !== source.selectionEnd) return hide();
      var text = source.value, lineStart = text.lastIndexOf("\n", at - 1) + 1;
      var before = text.slice(lineStart, at);
      var lines = text.slice(0, lineStart).split("\n"), row = lines.length - 1;
      var keyed = /^( *)(- +)?([A-Za-z_][\w\-]*)?$/.exec(before), words, prefix, isKey;
      if (keyed) {
        prefix = keyed[3] || "";
        if (!prefix && !force) return hide();
        var indent = keyed[1].length + (keyed[2] || "").length;
        words = keysAt(parentKeys(lines.slice(0, row), row, indent));
        isKey = true;
      } else {
        var m = /[A-Za-z_][\w.\-]*$/.exec(before);
        if ((before.split('"').length % 2 === 0) || before.indexOf("#") >= 0) return hide();
        prefix = m ? m[0] : "";
        if (prefix.length < (force ? 0 : 2) || !/[:\[,\-]/.test(before)) return hide();
        words = cfg.names || [];
        isKey = false;
      }
      offered = words.filter(function (w) { return w.indexOf(prefix) === 0 && w !== prefix; }).slice(0, 12);
      if (!offered.length) return hide();
      span = { start: at - prefix.length, end: at, key: isKey };
      chosen = 0;
      box.innerHTML = "";
      offered.forEach(function (w, k) {
        var li = document.createElement("li");
        li.textContent = w;
        li.dataset.word = w;
        li.className = k === chosen ? "chosen" : "";
        li.setAttribute("role", "option");
        li.addEventListener("mousedown", function (e) { e.preventDefault(); chosen = k; accept(); });
        box.appendChild(li);
      });
      var style = getComputedStyle(source), lh = parseFloat(style.lineHeight);
      var measure = document.createElement("span");
      measure.style.font = style.font;
      measure.style.visibility = "hidden";
      measure.style.position = "absolute";
      measure.textContent = before.replace(/\t/g, "  ");
      document.body.appendChild(measure);
      var width = measure.getBoundingClientRect().width;
      measure.remove();
      var lineTop = 4 + row * lh - source.scrollTop;
      box.style.left = Math.max(0, Math.min(8 + width - source.scrollLeft, source.clientWidth - 160)) + "px";
      box.hidden = false;
      /* below the line, or above it where the box would pass the editor's bottom edge */
      var top = lineTop + lh;
      if (top + box.offsetHeight > source.clientHeight) top = Math.max(0, lineTop - box.offsetHeight);
      box.style.top = top + "px";
    }
    function choose(k) {
      chosen = (k + offered.length) % offered.length;
      $all("li", box).forEach(function (li, i) { li.className = i === chosen ? "chosen" : ""; });
    }
    function accept() {
      var word = offered[chosen];
      if (!word || !span) return;
      var after = source.value.slice(span.end);
      var tail = span.key && !/^ *:/.test(after) ? ": " : "";
      source.focus();
      source.setRangeText(word + tail, span.start, span.end, "end");
      hide();
      quiet = true;
      source.dispatchEvent(new Event("input"));
      quiet = false;
    }
    source.addEventListener("keydown", function (e) {
      if (e.key === " " && e.ctrlKey) { e.preventDefault(); offer(true); return; }
      if (box.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); choose(chosen + (e.key === "ArrowDown" ? 1 : -1)); }
      else if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); e.stopImmediatePropagation(); accept(); }
      else if (e.key === "Escape") { e.preventDefault(); hide(); }
    });
    source.addEventListener("input", function () { if (!quiet) offer(false); });
    source.addEventListener("blur", hide);
    source.addEventListener("click", hide);
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
  /* analyses' tables: numbers to the right, text (names, rules, observations) to the left */
  document.addEventListener("DOMContentLoaded", function () {
    $all(".parts td").forEach(function (td) {
      if (!/^[+\-\u2212]?[\d.,]+(%|e[+-]?\d+)?(\s|$)|^\u2014$/.test(td.textContent.trim())) td.classList.add("text");
    });
    $all(".parts table").forEach(function (table) {
      var first = table.querySelector("tbody tr");
      if (!first) return;
      $all("thead th", table).forEach(function (th, i) {
        if (first.children[i] && first.children[i].classList.contains("text")) th.classList.add("text");
      });
    });
  });

  return { library: library, editor: editor, run: run, experiments: experiments, analysis: analysis, figures: figures, highlightLine: highlightLine };
})();
