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

// Ledger and stream forms (ledger/_entry_fields.html, streams/_form.html). The server checks
// everything again; this only hides what does not apply and offers what fits.
(function () {
  "use strict";
  function words(text) { return (text || "").split(/\s+/).filter(Boolean); }

  function selectedData(select, key) {
    var option = select && select.options[select.selectedIndex];
    return option ? (option.dataset[key] || "") : "";
  }

  // Hide and disable the options that do not fit; clear a selection that no longer fits.
  function fitOptions(select, fits) {
    if (!select) { return; }
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) { return; }
      var ok = fits(option);
      option.hidden = !ok;
      option.disabled = !ok;
      if (!ok && option.selected) { select.value = ""; }
    });
  }

  function routeFits(option, routeKind, swCode) {
    var codes = words(option.dataset.sw);
    var kindOk = !routeKind || option.dataset.kind === routeKind;
    return kindOk && (!swCode || codes.length === 0 || codes.indexOf(swCode) !== -1);
  }

  // Entry fields: the kind decides which groups show (data-wx-kinds), which facilities
  // (data-facility-kind) and which routes (kind and SW code) are offered.
  document.querySelectorAll("[data-wx-entry-fields]").forEach(function (box) {
    var kind = box.querySelector("select[name=kind]");
    var stream = box.querySelector("select[name=stream_id]");
    var swCode = box.querySelector("select[name=sw_code]");
    var facility = box.querySelector("select[name=facility_code]");
    var route = box.querySelector("select[name=route_key]");
    if (!kind) { return; }

    function shown(element) {
      var group = element && element.closest("[data-wx-kinds]");
      return Boolean(element) && !(group && group.classList.contains("d-none"));
    }

    function update() {
      box.querySelectorAll("[data-wx-kinds]").forEach(function (group) {
        var hidden = words(group.dataset.wxKinds).indexOf(kind.value) === -1;
        group.classList.toggle("d-none", hidden);
        // Hidden inputs are not sent, so a value typed for another kind is not recorded.
        group.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = hidden; });
      });
      var facilityKind = selectedData(kind, "facility");
      fitOptions(facility, function (option) { return !facilityKind || option.dataset.facilityKind === facilityKind; });
      var sw = shown(stream) ? selectedData(stream, "sw") : (swCode ? swCode.value : "");
      var routeKind = selectedData(kind, "route");
      fitOptions(route, function (option) { return routeFits(option, routeKind, sw); });
    }

    [kind, stream, swCode].forEach(function (select) {
      if (select) { select.addEventListener("change", update); }
    });
    update();
  });

  // Stream form: the planned route must fit the chosen SW code.
  document.querySelectorAll("[data-wx-stream-form]").forEach(function (form) {
    var swCode = form.querySelector("select[name=sw_code]");
    var route = form.querySelector("select[name=planned_route_key]");
    if (!swCode || !route) { return; }
    function update() { fitOptions(route, function (option) { return routeFits(option, "", swCode.value); }); }
    swCode.addEventListener("change", update);
    update();
  });

  // A fieldset shown (and sent) only while a checkbox is ticked: data-wx-toggled-by="checkbox id".
  document.querySelectorAll("[data-wx-toggled-by]").forEach(function (fieldset) {
    var checkbox = document.getElementById(fieldset.dataset.wxToggledBy);
    if (!checkbox) { return; }
    function update() {
      fieldset.classList.toggle("d-none", !checkbox.checked);
      fieldset.disabled = !checkbox.checked;
    }
    checkbox.addEventListener("change", update);
    update();
  });

  document.querySelectorAll("[data-wx-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
