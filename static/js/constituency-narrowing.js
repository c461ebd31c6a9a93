// Narrows a constituency <select> (members.widgets.ConstituencySelect) to the region chosen in
// the same form. Without this script the grouped list works on its own.
(function () {
  "use strict";

  function narrow(seatSelect) {
    var form = seatSelect.form;
    var regionSelect = form && form.elements.namedItem(seatSelect.dataset.regionField);
    if (!regionSelect || regionSelect.dataset.narrowing === "on") {
      return;
    }
    regionSelect.dataset.narrowing = "on";
    // Every group, kept aside so that a group removed for one region comes back for another.
    var groups = Array.prototype.slice.call(seatSelect.querySelectorAll("optgroup[data-region]"));

    function show(regionId) {
      var chosen = seatSelect.value;
      // Taken out and put back in their first order, so the list reads the same every time.
      groups.forEach(function (group) {
        if (group.parentNode) {
          group.parentNode.removeChild(group);
        }
      });
      groups.forEach(function (group) {
        if (!regionId || group.dataset.region === regionId) {
          seatSelect.appendChild(group);
        }
      });
      // A constituency of another region is no longer offered: start again from the first option.
      seatSelect.value = chosen;
      if (seatSelect.value !== chosen) {
        seatSelect.selectedIndex = 0;
      }
    }

    regionSelect.addEventListener("change", function () {
      show(regionSelect.value);
    });
    // A constituency chosen first picks its region.
    seatSelect.addEventListener("change", function () {
      var option = seatSelect.options[seatSelect.selectedIndex];
      var group = option && option.parentNode;
      if (!regionSelect.value && group && group.dataset && group.dataset.region) {
        regionSelect.value = group.dataset.region;
        show(regionSelect.value);
      }
    });
    show(regionSelect.value);
  }

  function start() {
    document.querySelectorAll("select[data-region-field]").forEach(narrow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
