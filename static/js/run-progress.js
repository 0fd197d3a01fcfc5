// A matcher run's progress bar: poll the run's progress until it ends, then reload the page.
(function () {
  "use strict";
  var box = document.querySelector("[data-run-progress]");
  if (!box) { return; }
  var bar = box.querySelector("[data-progress-bar]");
  var stage = box.querySelector("[data-progress-stage]");
  var track = box.querySelector("[role=progressbar]");

  function show(progress, text) {
    bar.style.width = progress + "%";  // CSSOM, allowed by the CSP (no inline style attribute)
    track.setAttribute("aria-valuenow", String(progress));
    stage.textContent = text || "";
  }

  function poll() {
    fetch(box.dataset.runProgress, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        show(run.progress, run.stage);
        if (run.status === "done" || run.status === "failed") { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  show(Number(track.getAttribute("aria-valuenow")) || 0, stage.textContent);
  poll();
})();
