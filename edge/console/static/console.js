// The copy button of the new-key page: the portal's only script. Without
// it the key can still be selected and copied, or downloaded.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.dataset.copy);
  var status = document.getElementById("copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () { status.textContent = "Copied."; };
    var fallback = function () {
      source.focus();
      source.select();
      if (document.execCommand("copy")) { done(); } else { status.textContent = "Select the text and copy it."; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, fallback);
    } else {
      fallback();
    }
  });
});
