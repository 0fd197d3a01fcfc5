// Transfer-slip pages. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";
  // Bulk signing: the header checkbox ticks or clears every row.
  document.querySelectorAll("[data-wx-check-all]").forEach(function (all) {
    var boxes = document.querySelectorAll("input[type=checkbox][name='" + all.dataset.wxCheckAll + "']");
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });
  // The printable slip: its print button.
  document.querySelectorAll("[data-wx-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
