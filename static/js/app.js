// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Show only the sites of the chosen region; Far East stores have exactly one site.
  function syncSites(form) {
    var checked = form.querySelector("input[name=region]:checked");
    var region = checked ? checked.value : null;
    form.querySelectorAll("input[name=sites]").forEach(function (box) {
      var label = box.closest("label");
      var show = !region || box.dataset.region === region;
      if (label) label.hidden = !show;
      if (!show) box.checked = false;
    });
  }
  document.querySelectorAll("form[data-store-form]").forEach(function (form) {
    form.querySelectorAll("input[name=region]").forEach(function (r) {
      r.addEventListener("change", function () { syncSites(form); });
    });
    form.addEventListener("change", function (e) {
      var box = e.target;
      if (box.name !== "sites" || !box.checked) return;
      var region = form.dataset.region || (form.querySelector("input[name=region]:checked") || {}).value;
      if (region === "FE") {
        form.querySelectorAll("input[name=sites]").forEach(function (other) { if (other !== box) other.checked = false; });
      }
    });
    syncSites(form);
  });
  // At phone width the rows of a table become cards (app.css): each cell carries its column's name in data-label,
  // taken from the table's own header so the two never disagree; empty cells are marked so that they can go.
  // Rows that a page's script adds or rewrites later (the staff re-check) are labelled as they come.
  function labelCells(table) {
    var heads = table.tHead && table.tHead.rows.length ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        Array.prototype.forEach.call(row.cells, function (cell, i) {
          var label = heads[i] ? heads[i].textContent.trim() : "";
          if (label && cell.getAttribute("data-label") !== label) cell.setAttribute("data-label", label);
          var empty = !cell.textContent.trim() && !cell.querySelector("input, select, button, img");
          if (cell.classList.contains("is-empty") !== empty) cell.classList.toggle("is-empty", empty);
        });
      });
    });
  }
  document.querySelectorAll("table.list").forEach(function (table) {
    labelCells(table);
    if (window.MutationObserver) {
      new MutationObserver(function () { labelCells(table); }).observe(table, { childList: true, subtree: true });
    }
  });
  // Confirm dialogs for destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (e) { if (!window.confirm(el.dataset.confirm)) e.preventDefault(); });
  });
  // Language switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Copy buttons.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var text = document.getElementById(btn.dataset.copy).value || document.getElementById(btn.dataset.copy).textContent;
      var done = function () { btn.textContent = btn.dataset.copied || "Copied"; };
      if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done, done); }
      else { var el = document.getElementById(btn.dataset.copy); el.select && el.select(); document.execCommand("copy"); done(); }
    });
  });
})();
(function () {
  "use strict";
  // "Go to Amazon Seller Central": open Amazon in a new tab and switch this page to "Waiting for Amazon".
  document.querySelectorAll("form[data-authorize-form]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      var box = form.querySelector("input[type=checkbox]");
      if (box && !box.checked) return; // let the server show the field error
      e.preventDefault();
      var tab = window.open("about:blank", "_blank");
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
        .then(function (res) {
          if (!res.ok) { if (tab) tab.close(); form.submit(); return; }
          if (tab) { tab.opener = null; tab.location = res.d.consent_url; }
          window.location = res.d.waiting_url;
        })
        .catch(function () { if (tab) tab.close(); form.submit(); });
    });
  });
  // The waiting page follows the attempt without a reload until it ends.
  var waiting = document.querySelector("[data-attempt-status=pending], [data-attempt-status=quarantined]");
  if (waiting) {
    var initial = waiting.dataset.attemptStatus;
    var timer = setInterval(function () {
      fetch(waiting.dataset.pollUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) { if (d.outcome !== initial) { clearInterval(timer); window.location.reload(); } })
        .catch(function () {});
    }, 3000);
  }
})();
