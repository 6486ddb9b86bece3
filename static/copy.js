// Adds a "Copy link" button beside each read-only link field; the field works without it.
document.querySelectorAll("input[data-copy]").forEach(function (input) {
  if (!navigator.clipboard) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.textContent = "Copy link";
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(function () {
      button.textContent = "Link copied";
    });
  });
  input.insertAdjacentElement("afterend", button);
});
