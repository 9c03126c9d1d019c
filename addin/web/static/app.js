// green-award reviewers' desk: a little plain JavaScript; every page works without it.
(function () {
  "use strict";

  // Upload: drop files on the zone (or choose them with the file picker inside it).
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    var chosen = zone.querySelector("[data-chosen]");
    function show() {
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      var shown = names.slice(0, 3).join(", ") + (names.length > 3 ? " … (+" + (names.length - 3) + ")" : "");
      chosen.textContent = names.length ? names.length + " 个文件 file(s): " + shown : "";
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  });

  // A batch under review: poll its progress, reload when it is done.
  var poll = document.querySelector("[data-poll]");
  if (poll) {
    var url = poll.getAttribute("data-poll");
    var bar = poll.querySelector("progress");
    var text = poll.querySelector("[data-progress-text]");
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (batch) {
          if (batch.status === "done" || batch.status === "failed") { window.location.reload(); return; }
          if (batch.total) {
            bar.max = batch.total; bar.value = batch.done;
            text.textContent = batch.done + " / " + batch.total;
          }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    };
    window.setTimeout(tick, 500);
  }

  // A decision: the amount is asked for (and required) only to reduce.
  document.querySelectorAll("[data-decision]").forEach(function (form) {
    var box = form.querySelector("[data-amount]");
    var field = box.querySelector("input");
    var sync = function () {
      var checked = form.querySelector("input[name=action]:checked");
      var reduce = !!checked && checked.value === "reduce";
      box.hidden = !reduce;
      field.required = reduce;
    };
    form.addEventListener("change", sync);
    sync();
  });
})();
