// Progressive enhancement of the submit form: the category select split into two steps, the
// street list narrowed to the district chosen, and "use my location" for the map point.
(function () {
  "use strict";
  function categories() {
    var select = document.getElementById("id_category");
    if (!select) { return; }
    var groups = select.querySelectorAll("optgroup");
    if (!groups.length) { return; }
    var first = document.createElement("select");
    first.id = "category-group";
    var label = document.createElement("label");
    label.htmlFor = first.id;
    label.textContent = select.dataset.groupLabel || "";
    var none = document.createElement("option");
    none.value = ""; none.textContent = select.options[0].textContent;
    first.appendChild(none);
    groups.forEach(function (g, i) {
      var o = document.createElement("option");
      o.value = String(i); o.textContent = g.label; first.appendChild(o);
      if (g.querySelector("option:checked")) { o.selected = true; }
    });
    var original = Array.prototype.slice.call(groups).map(function (g) {
      return Array.prototype.slice.call(g.querySelectorAll("option")).map(function (o) {
        return [o.value, o.textContent, o.selected];
      });
    });
    function fill() {
      var chosen = first.value;
      while (select.options.length > 1) { select.remove(1); }
      select.querySelectorAll("optgroup").forEach(function (g) { g.remove(); });
      if (chosen === "") { return; }
      original[Number(chosen)].forEach(function (row) {
        var o = document.createElement("option");
        o.value = row[0]; o.textContent = row[1]; o.selected = row[2];
        select.appendChild(o);
      });
    }
    var box = select.closest(".field");
    box.parentNode.insertBefore(label, box);
    box.parentNode.insertBefore(first, box);
    first.addEventListener("change", fill);
    fill();
  }
  function locate() {
    var button = document.getElementById("use-location");
    if (!button || !navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("id_latitude").value = pos.coords.latitude.toFixed(6);
        document.getElementById("id_longitude").value = pos.coords.longitude.toFixed(6);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { categories(); locate(); });
})();
