// The live debugger: follows /app/{hub}/debugger/stream (Server-Sent Events) and puts each new
// message at the top of the list, built with DOM nodes and textContent only (message data is
// never parsed as HTML). The filters hide what does not match as you type; "Filter" asks the
// server for older matches. The browser reconnects a closed stream with Last-Event-ID.
(function () {
  "use strict";

  var list = document.getElementById("debugger-stream");
  if (!list || !window.EventSource) {
    return;
  }
  var statusText = document.getElementById("debugger-status");
  var pauseButton = document.getElementById("debugger-pause");
  var emptyText = document.getElementById("debugger-empty");
  var form = document.getElementById("debugger-filters");
  var limit = parseInt(list.getAttribute("data-limit"), 10) || 500;
  var seen = {};
  var paused = false;
  var waiting = [];

  Array.prototype.forEach.call(list.children, function (row) {
    seen[row.getAttribute("data-seq")] = true;
  });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function badge(text, kind) {
    return el("span", "badge" + (kind ? " " + kind : ""), text);
  }

  function effects(m) {
    var ul = el("ul", "effects");
    var li;
    if (m.object) {
      li = el("li", null, m.object.label + ": ");
      var link = el("a", null, m.object.text);
      link.setAttribute("href", m.object.href);
      li.appendChild(link);
      ul.appendChild(li);
    }
    m.lines.forEach(function (line) {
      ul.appendChild(el("li", null, line));
    });
    if (m.properties.length) {
      li = el("li", null, "Properties written: ");
      li.appendChild(el("span", "mono wrap", m.properties.join(", ")));
      ul.appendChild(li);
    }
    m.notes.forEach(function (note) {
      li = el("li", "note");
      li.appendChild(badge(note.code, "warn"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("code", null, note.field));
      li.appendChild(document.createTextNode(" " + note.reason));
      ul.appendChild(li);
    });
    if (m.error) {
      ul.appendChild(el("li", "failed", "Failed: " + m.error));
    }
    return ul;
  }

  function row(m) {
    var li = el("li", "msg");
    li.setAttribute("data-seq", String(m.seq));
    li.setAttribute("data-source", m.source);
    li.setAttribute("data-kind", m.kind);
    var details = el("details");
    var summary = el("summary");
    summary.appendChild(badge(m.status, m.status_class));
    summary.appendChild(badge(m.source_label));
    summary.appendChild(badge(m.kind, "accent"));
    summary.appendChild(el("span", "msg-summary wrap", m.summary));
    if (m.notes.length) {
      summary.appendChild(badge(m.notes.length + (m.notes.length === 1 ? " note" : " notes"), "warn"));
    }
    var time = el("time", "muted", m.received);
    time.setAttribute("datetime", String(m.received_at_ms));
    summary.appendChild(time);
    details.appendChild(summary);

    var body = el("div", "msg-body");
    var left = el("div");
    left.appendChild(el("h3", null, "What processing did"));
    left.appendChild(effects(m));
    var right = el("div");
    var heading = el("h3", null, "Payload ");
    heading.appendChild(el("span", "muted", "· empty fields left out"));
    right.appendChild(heading);
    right.appendChild(el("pre", null, m.payload));
    body.appendChild(left);
    body.appendChild(right);
    details.appendChild(body);
    li.appendChild(details);
    return li;
  }

  function filterValues() {
    if (!form) {
      return { source: "", kind: "", q: "" };
    }
    return {
      source: form.elements.source.value,
      kind: form.elements.kind.value,
      q: form.elements.q.value.trim().toLowerCase(),
    };
  }

  function applyFilter(li, f) {
    var match =
      (!f.source || li.getAttribute("data-source") === f.source) &&
      (!f.kind || li.getAttribute("data-kind") === f.kind) &&
      (!f.q || li.textContent.toLowerCase().indexOf(f.q) !== -1);
    li.hidden = !match;
  }

  function applyFilters() {
    var f = filterValues();
    Array.prototype.forEach.call(list.children, function (li) {
      applyFilter(li, f);
    });
  }

  function show(m) {
    var li = row(m);
    applyFilter(li, filterValues());
    list.insertBefore(li, list.firstChild);
    while (list.children.length > limit) {
      delete seen[list.lastElementChild.getAttribute("data-seq")];
      list.removeChild(list.lastElementChild);
    }
    if (emptyText) {
      emptyText.hidden = true;
    }
  }

  function setStatus(text) {
    if (statusText) {
      statusText.textContent = text;
    }
  }

  var stream = new EventSource(list.getAttribute("data-stream"));
  stream.onopen = function () {
    setStatus(paused ? "Paused" : "Live: new messages appear at the top.");
  };
  stream.onerror = function () {
    setStatus("Connection lost, reconnecting…");
  };
  stream.onmessage = function (event) {
    var m = JSON.parse(event.data);
    var key = String(m.seq);
    if (seen[key]) {
      return;
    }
    seen[key] = true;
    if (paused) {
      waiting.push(m);
      setStatus("Paused: " + waiting.length + " new message" + (waiting.length === 1 ? "" : "s") + " waiting");
      return;
    }
    show(m);
  };

  var restore = null;
  stream.addEventListener("skipped", function () {
    setStatus("More messages than can be shown live: some were skipped (filter to find them).");
    window.clearTimeout(restore);
    restore = window.setTimeout(function () {
      setStatus(paused ? "Paused" : "Live: new messages appear at the top.");
    }, 10000);
  });

  if (pauseButton) {
    pauseButton.hidden = false;
    pauseButton.addEventListener("click", function () {
      paused = !paused;
      pauseButton.textContent = paused ? "Resume" : "Pause";
      if (!paused) {
        waiting.forEach(show);
        waiting = [];
        setStatus("Live: new messages appear at the top.");
      } else {
        setStatus("Paused");
      }
    });
  }

  if (form) {
    form.addEventListener("input", applyFilters);
    form.addEventListener("change", applyFilters);
  }
  window.addEventListener("pagehide", function () {
    stream.close();
  });
})();
