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
  var timer = setInterval(function () {
    fetch(card.dataset.pollUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        set("total", d.total); set("done", d.done); set("nothing", d.nothing); set("failed", d.failed); set("pending", d.pending);
        var reasons = card.querySelector("[data-field=reasons]");
        if (reasons) {
          reasons.textContent = "";
          d.reasons.forEach(function (r) {
            var li = document.createElement("li");
            li.textContent = r.count + " × " + r.text;
            reasons.appendChild(li);
          });
        }
        if (d.finished) {
          clearInterval(timer);
          var state = card.querySelector("[data-field=state]");
          if (state) state.textContent = state.dataset.done;
        }
      })
      .catch(function () {});
  }, 2000);
})();
