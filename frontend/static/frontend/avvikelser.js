/* Samverkansavvikelser: live feedback on personal data in the free text, the lex Sarah / lex Maria reminder
   and the counterpart's units. Progressive enhancement only: every form works without JavaScript (the server
   checks the same text when the form is sent). No inline scripts (CSP). */
(function () {
  "use strict";

  var DELAY_MS = 400;

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // POST the field's text to `url` with what tells the server whose names to look for; resolves to the body.
  function post(form, url, field) {
    var body = new FormData();
    body.append("text", field.value);
    var sipName = form.getAttribute("data-guard-sip");
    var sip = sipName ? form.elements.namedItem(sipName) : null;
    if (sip && sip.value) {
      body.append("sip", sip.value);
    }
    var deviation = form.getAttribute("data-guard-deviation");
    if (deviation) {
      body.append("avvikelse", deviation);
    }
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "XMLHttpRequest" }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text();
    });
  }

  function labelText(field) {
    var label = field.id ? document.querySelector("label[for='" + field.id + "']") : null;
    return label ? label.textContent.trim() : "";
  }

  function describedBy(field, id, on) {
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (value) {
      return value && value !== id;
    });
    if (on) {
      ids.push(id);
    }
    if (ids.length) {
      field.setAttribute("aria-describedby", ids.join(" "));
    } else {
      field.removeAttribute("aria-describedby");
    }
  }

  function watch(form, field) {
    var checkUrl = form.getAttribute("data-guard-check");
    var maskUrl = form.getAttribute("data-guard-mask");
    var box = document.createElement("div");
    box.className = "guard-feedback";
    box.id = (field.id || field.name) + "-guard";
    box.setAttribute("role", "status"); // a polite live region: findings are read out when they change
    field.insertAdjacentElement("afterend", box);
    var timer = null;
    var shown = "";
    var sequence = 0;

    function show(html) {
      if (html === shown) {
        return;
      }
      shown = html;
      box.innerHTML = html; // a fragment rendered and escaped by the server; it never holds the found text
      var button = box.querySelector("[data-guard-mask]");
      var label = labelText(field);
      if (button && label) {
        // Several fields may have findings: the button says which field it masks (to screen readers).
        var hidden = document.createElement("span");
        hidden.className = "visually-hidden";
        hidden.textContent = " – " + label;
        button.appendChild(hidden);
      }
      describedBy(field, box.id, Boolean(box.querySelector(".guard-findings")));
    }

    function check() {
      var mine = ++sequence;
      if (!field.value.trim()) {
        show("");
        return;
      }
      post(form, checkUrl, field).then(function (html) {
        if (mine === sequence) {
          show(html.trim());
        }
      }).catch(function () { /* the server checks again when the form is sent */ });
    }

    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DELAY_MS);
    });
    field.addEventListener("guard:recheck", check);

    box.addEventListener("click", function (event) {
      if (!event.target.closest("[data-guard-mask]")) {
        return;
      }
      var mine = ++sequence;
      post(form, maskUrl, field).then(function (text) {
        if (mine !== sequence) {
          return;
        }
        field.value = text;
        field.focus();
        var done = document.createElement("p");
        done.className = "guard-done";
        done.textContent = form.getAttribute("data-guard-masked") || "";
        shown = "";
        box.replaceChildren(done);
        describedBy(field, box.id, false);
      }).catch(function () { /* keep the findings; the server refuses the text when it is sent */ });
    });

    if (field.value.trim()) {
      check(); // a form shown again with its text
    }
  }

  // With 'Skada' the reporter is reminded that a lex Sarah or lex Maria report may be due as well.
  function lexReminder(form) {
    var note = form.querySelector("[data-lex-reminder]");
    if (!note) {
      return;
    }
    var inner = note.firstElementChild;
    function sync() {
      var checked = form.querySelector("input[name$='consequence']:checked");
      inner.hidden = !(checked && checked.value === "skada");
    }
    form.querySelectorAll("input[name$='consequence']").forEach(function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();
  }

  // Only the chosen counterpart's units are offered.
  function counterpartUnits(form) {
    var organisation = form.elements.namedItem("counterpart_organisation");
    var unit = form.elements.namedItem("counterpart_unit");
    if (!organisation || !unit) {
      return;
    }
    function sync() {
      var chosen = organisation.selectedIndex > 0 ? organisation.options[organisation.selectedIndex].text : null;
      unit.querySelectorAll("optgroup").forEach(function (group) {
        var offered = !chosen || group.label === chosen;
        group.hidden = !offered;
        group.disabled = !offered;
      });
      var selected = unit.options[unit.selectedIndex];
      if (selected && selected.parentElement.disabled) {
        unit.value = "";
      }
    }
    organisation.addEventListener("change", sync);
    sync();
  }

  document.querySelectorAll("form[data-guard-check]").forEach(function (form) {
    var fields = form.querySelectorAll("[data-guard]");
    fields.forEach(function (field) {
      watch(form, field);
    });
    // Another plan means other names to look for.
    var sipName = form.getAttribute("data-guard-sip");
    var sip = sipName ? form.elements.namedItem(sipName) : null;
    if (sip) {
      sip.addEventListener("change", function () {
        fields.forEach(function (field) {
          field.dispatchEvent(new Event("guard:recheck"));
        });
      });
    }
    lexReminder(form);
    counterpartUnits(form);
  });
})();
