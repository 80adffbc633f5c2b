// Staff pages: row selection on the store list, live progress of a re-check batch. Both pages work without it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-staff-form]");
  if (form) {
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        form.querySelectorAll("input[name=store]").forEach(function (box) { box.checked = all.checked; });
      });
    }
    // "All matching the filter" overrides single rows, so grey them out to make that visible.
    var matching = form.querySelector("[data-all-matching]");
    if (matching) {
      matching.addEventListener("change", function () {
        form.querySelectorAll("input[name=store], [data-select-all]").forEach(function (box) { box.disabled = matching.checked; });
      });
    }
  }

  var card = document.querySelector("[data-batch-progress]");
  if (!card || card.dataset.finished === "1") return;
  function set(name, value) {
    var el = card.querySelector("[data-field=" + name + "]");
    if (el) el.textContent = value;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // ": " in English, "：" in Chinese: the page says which (the same translated separator as its own rows).
  var separator = card.dataset.labelSeparator || ": ";
  function problemsText(problems) {
    return problems.map(function (p) { return p.capability + separator + p.text; }).join("; ");
  }
  // The rows of this page: their ids go with each poll, and each answer rewrites them, so no row says Pending once
  // the counts say Finished (both come from the same answer).
  var rows = {};
  document.querySelectorAll("tr[data-item]").forEach(function (tr) { rows[tr.dataset.item] = tr; });
  var ids = Object.keys(rows);
  var url = card.dataset.pollUrl + (ids.length ? "?items=" + ids.join(",") : "");
  function updateRow(item) {
    var tr = rows[String(item.id)];
    if (!tr) return;
    var result = tr.querySelector("[data-field=result]");
    if (result) {
      result.textContent = "";
      var badge = el("span", "badge " + item.badge, item.label);
      badge.setAttribute("data-testid", "batch-result");
      result.appendChild(badge);
      item.problems.forEach(function (p) { result.appendChild(el("div", "small", p.capability + separator + p.text)); });
    }
    var caps = tr.querySelector("[data-field=caps]");
    if (caps) {
      caps.textContent = "";
      var box = el("div", "caps");
      item.capabilities.forEach(function (c) { box.appendChild(el("span", "badge " + c.status, c.text)); });
      caps.appendChild(box);
    }
  }
  function updateFailures(failures) {
    var list = card.querySelector("[data-field=failures]");
    if (!list) return;
    list.textContent = "";
    failures.forEach(function (f) {
      var li = el("li");
      var a = el("a", "", f.store);
      a.href = f.url;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + f.tenant + "): " + problemsText(f.problems)));
      list.appendChild(li);
    });
    var box = card.querySelector("[data-failures]");
    if (box) box.hidden = failures.length === 0;
  }
  var timer = setInterval(function () {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        set("total", d.total); set("done", d.done); set("nothing", d.nothing); set("failed", d.failed); set("pending", d.pending);
        var reasons = card.querySelector("[data-field=reasons]");
        if (reasons) {
          reasons.textContent = "";
          d.reasons.forEach(function (r) { reasons.appendChild(el("li", "", r.count + " × " + r.text)); });
        }
        updateFailures(d.failures || []);
        (d.items || []).forEach(updateRow);
        if (d.finished) {
          clearInterval(timer);
          var state = card.querySelector("[data-field=state]");
          if (state) state.textContent = state.dataset.done;
        }
      })
      .catch(function () {});
  }, 2000);
})();
