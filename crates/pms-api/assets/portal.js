// pms partner portal: small enhancements only; every page works without this file.
// Loaded from the page's own origin (the Content-Security-Policy allows nothing inline).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: <button class="copy" data-copy="text" hidden>, shown when JS runs; one
  // delegated handler, so buttons added later (live preview) work too.
  var armCopy = function (root) {
    root.querySelectorAll("button.copy[data-copy]").forEach(function (b) { b.hidden = false; });
  };
  armCopy(document);
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button.copy[data-copy]") : null;
    if (!b) { return; }
    var text = b.getAttribute("data-copy");
    var done = function () { var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
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
  // Live preview: <form data-preview="container-id">. When the key, the partner or the policy
  // changes, the form is sent as it is with action=preview (the server runs the whole create
  // and rolls it back: nothing is written) and the answer's #preview replaces the container's
  // content; when the answer has no preview, its error messages are shown there instead.
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var box = document.getElementById(form.getAttribute("data-preview"));
    if (!box || !window.fetch || !window.FormData || !window.DOMParser) { return; }
    var timer = null;
    var seq = 0;
    var run = function () {
      var n = ++seq;
      var data = new FormData(form);
      data.set("action", "preview");
      // getAttribute: the form's buttons are named "action", which shadows form.action.
      fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (n !== seq) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("preview");
          box.textContent = "";
          if (fresh) {
            box.appendChild(document.importNode(fresh, true));
            armCopy(box);
            return;
          }
          var note = document.createElement("div");
          note.className = "panel";
          var title = document.createElement("p");
          title.textContent = "No preview yet:";
          note.appendChild(title);
          doc.querySelectorAll("main .error p, main .error-box p, main p.error-box").forEach(function (p) {
            var line = document.createElement("p");
            line.className = "hint";
            line.textContent = p.textContent;
            note.appendChild(line);
          });
          box.appendChild(note);
        })
        .catch(function () {});
    };
    ["publicKey", "publicKeyPem", "authPartnerId", "policyId"].forEach(function (name) {
      var el = form.elements[name];
      if (!el) { return; }
      el.addEventListener("change", function () {
        clearTimeout(timer);
        timer = setTimeout(run, 300);
      });
    });
  });
  // Confirmations: <form data-confirm="text">.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
});
