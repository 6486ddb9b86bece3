// Progressive enhancement: save an answer the moment it is chosen. Without this script the
// "Save and continue" buttons save it; either way the server keeps every answer.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = form.querySelector(".autosave-status");
  var pending = null;
  function say(text) { if (status) { status.textContent = text; } }
  function save() {
    var data = new FormData(form);
    data.delete("go");
    say("Saving…");
    pending = fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) { say("Answer saved."); }
        else { say(body.detail || "Your answer was not saved. Use Save and continue."); }
      });
    }).catch(function () {
      say("No connection. Your answer will be saved when you press Save and continue.");
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "answer") { save(); }
  });
})();
