// Any dashboard page: "Copy" buttons (button[data-copy] names the field to copy: snippets, a new
// secret, embed codes) and a confirmation before a form with data-confirm is posted (revoking a
// credential, archiving a form). Without scripts the pages work as they are.
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
