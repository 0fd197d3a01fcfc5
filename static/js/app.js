// WasteEx page behaviour. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";
  // Site form: picking a known town fills the banner and coordinates.
  var place = document.getElementById("place");
  if (place) {
    place.addEventListener("change", function () {
      var option = place.options[place.selectedIndex];
      if (!option || !option.dataset.lat) { return; }
      document.getElementById("latitude").value = option.dataset.lat;
      document.getElementById("longitude").value = option.dataset.lon;
      document.getElementById("division_code").value = option.dataset.division;
    });
  }
  // Buttons that need a confirmation carry data-confirm="question".
  document.querySelectorAll("form [data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();
