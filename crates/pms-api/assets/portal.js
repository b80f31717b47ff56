// pms partner portal: small enhancements only; every page works without this file.
// Loaded from the page's own origin (the Content-Security-Policy allows nothing inline).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: <button class="copy" data-copy="text">.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-copy");
      var done = function () { var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      }
    });
  });
  // Growing redirect-URI list: <div class="uris" data-max="5"> with .uri-row children and a
  // button.add-uri.
  document.querySelectorAll(".uris").forEach(function (box) {
    var add = box.querySelector("button.add-uri");
    if (!add) { return; }
    add.hidden = false;
    var max = parseInt(box.getAttribute("data-max") || "5", 10);
    add.addEventListener("click", function () {
      var rows = box.querySelectorAll(".uri-row");
      if (rows.length >= max) { return; }
      var copy = rows[rows.length - 1].cloneNode(true);
      var input = copy.querySelector("input");
      var n = rows.length + 1;
      input.value = "";
      input.id = "redirectUris-" + n;
      var label = copy.querySelector("label");
      label.setAttribute("for", input.id);
      label.textContent = "Redirect URI " + n;
      rows[rows.length - 1].after(copy);
      input.focus();
      if (rows.length + 1 >= max) { add.hidden = true; }
    });
  });
  // Confirmations: <form data-confirm="text">.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
});
