/* Samverkan: small enhancements only; every page works without JavaScript. No inline scripts (CSP). */
(function () {
  "use strict";

  // After a failed save, move focus to the error summary or merge notice, so it is read out first.
  function focusMessage() {
    var target = document.querySelector("[data-autofocus]");
    if (!target) {
      return;
    }
    var details = target.closest("details");
    if (details) {
      details.open = true;
    }
    target.focus();
  }

  // A link in an error summary puts focus in the field, not only scrolls to it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    }
  });

  // After "load": a URL fragment (#section, which the forms post to) is scrolled to by then and would
  // otherwise take the focus back to the top of the document.
  if (document.readyState === "complete") {
    focusMessage();
  } else {
    window.addEventListener("load", focusMessage);
  }
})();
