// Settings: "Copy" buttons for the snippets and a new secret, and a confirmation before a
// credential is revoked (forms with data-confirm). Without scripts the page works as is.
(function () {
  "use strict";

  function copied(button) {
    button.textContent = "Copied";
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 1500);
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          copied(button);
        });
      } else if (document.execCommand("copy")) {
        // Plain http outside localhost has no clipboard API; the selection copies instead.
        copied(button);
      }
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
