// The form builder: fields added, removed and reordered in the page (without scripts the same
// buttons post the builder and the server answers with the rows changed), only the inputs a
// field's type uses, and a live preview drawn by the embed script's hbspt.forms.renderDefinition.
// Copy buttons and the archive confirmation are page-actions.js, shared with other pages.
(function () {
  "use strict";

  var each = function (list, fn) {
    Array.prototype.forEach.call(list, fn);
  };

  var builder = document.getElementById("form-builder");
  var list = document.getElementById("field-rows");
  var template = document.getElementById("field-row-template");
  var preview = document.getElementById("form-preview");
  if (!builder || !list || !template || !preview) {
    return;
  }
  builder.classList.add("js");

  var WITH_OPTIONS = ["select", "radio", "checkbox"];
  var OP_LABELS = { up: "Move field # up", down: "Move field # down", remove: "Remove field #" };

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-row]"));
  }

  function part(row, name) {
    return row.querySelector('[data-part="' + name + '"]');
  }

  function value(scope, name) {
    var input = part(scope, name);
    return input ? input.value.trim() : "";
  }

  function isBlank(row) {
    return ["property", "label", "help", "options", "default"].every(function (name) {
      return value(row, name) === "";
    });
  }

  // Names, numbers and button labels follow the rows' order (f0_…, f1_…), as the server reads it.
  function renumber() {
    var all = rows();
    all.forEach(function (row, i) {
      each(row.querySelectorAll("[name]"), function (input) {
        input.name = input.name.replace(/^f(?:\d+|__i__)_/, "f" + i + "_");
      });
      each(row.querySelectorAll("button[data-op]"), function (button) {
        var op = button.getAttribute("data-op");
        button.value = op + ":" + i;
        button.setAttribute("aria-label", OP_LABELS[op].replace("#", String(i + 1)));
      });
      row.querySelector("[data-number]").textContent = String(i + 1);
      row.querySelector('[data-op="up"]').disabled = i === 0;
      row.querySelector('[data-op="down"]').disabled = i === all.length - 1;
    });
  }

  function showParts(row) {
    var type = part(row, "type").value;
    row.setAttribute("data-type", type);
    if (type === "hidden") {
      row.querySelector(".row-details").open = true;  // a hidden field sends its default value
    }
  }

  function addRow() {
    var fragment = template.content.cloneNode(true);
    var row = fragment.querySelector("[data-row]");
    list.appendChild(fragment);
    showParts(row);
    renumber();
    part(row, "property").focus();
  }

  function operate(button) {
    var op = button.getAttribute("data-op");
    if (op === "add") {
      addRow();
      return;
    }
    var row = button.closest("[data-row]");
    if (op === "remove") {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (!rows().length) {
        addRow();
      } else {
        renumber();
        (next ? next.querySelector('[data-op="remove"]') : builder.querySelector('[data-op="add"]')).focus();
      }
    } else if (op === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (op === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    if (op !== "remove") {
      renumber();
      if (button.disabled) {
        // At the top or bottom now: keep the focus in the row.
        button.parentNode.querySelector("button:not([disabled])").focus();
      } else {
        button.focus();
      }
    }
  }

  // Choosing a property fills in what the builder can guess (label, type, options), unless the
  // row already has its own.
  function suggest(row) {
    var select = part(row, "property");
    var option = select.options[select.selectedIndex];
    var label = part(row, "label");
    var previous = row.getAttribute("data-suggested") || "";
    if (!option || !option.value) {
      return;
    }
    if (label.value.trim() === "" || label.value === previous) {
      label.value = option.getAttribute("data-label") || "";
      row.setAttribute("data-suggested", label.value);
      if (option.getAttribute("data-type")) {
        part(row, "type").value = option.getAttribute("data-type");
        showParts(row);
      }
    }
    var options = part(row, "options");
    if (options.value.trim() === "" && option.getAttribute("data-options")) {
      options.value = option.getAttribute("data-options");
    }
  }

  function number(text) {
    var found = Number(text);
    return text === "" || !isFinite(found) ? null : found;
  }

  function parsedOptions(text) {
    var found = [];
    text.split("\n").forEach(function (line) {
      var bar = line.indexOf("|");
      var label = (bar < 0 ? line : line.slice(0, bar)).trim();
      var own = bar < 0 ? "" : line.slice(bar + 1).trim();
      if (own) {
        found.push({ label: label || own, value: own });
      } else if (label) {
        found.push({ label: label, value: label });
      }
    });
    return found;
  }

  // The public definition's shape (GET /forms/v2/{portalId}/{guid}/definition), from the inputs.
  function definition() {
    var fields = [];
    rows().forEach(function (row) {
      var choice = part(row, "property").value;
      var colon = choice.indexOf(":");
      if (colon < 0) {
        return;
      }
      var type = part(row, "type").value;
      fields.push({
        name: choice.slice(colon + 1),
        label: value(row, "label"),
        type: type,
        objectType: choice.slice(0, colon),
        required: part(row, "required").checked && type !== "hidden",
        helpText: value(row, "help"),
        placeholder: value(row, "placeholder"),
        defaultValue: value(row, "default"),
        options: WITH_OPTIONS.indexOf(type) >= 0 ? parsedOptions(part(row, "options").value) : [],
        min: type === "number" ? number(value(row, "min")) : null,
        max: type === "number" ? number(value(row, "max")) : null,
      });
    });
    var redirect = builder.getAttribute("data-after") === "redirect";
    return {
      portalId: Number(builder.getAttribute("data-portal")),
      guid: builder.getAttribute("data-guid"),
      name: value(builder, "name"),
      submitLabel: value(builder, "submit_label") || "Submit",
      thankYouMessage: value(builder, "message"),
      redirectUrl: redirect ? value(builder, "redirect") : "",
      fields: fields,
      honeypot: builder.getAttribute("data-honeypot"),
    };
  }

  function note(text) {
    preview.textContent = "";
    var paragraph = document.createElement("p");
    paragraph.className = "muted";
    paragraph.textContent = text;
    preview.appendChild(paragraph);
  }

  function draw() {
    var forms = window.hbspt && window.hbspt.forms;
    if (!forms || typeof forms.renderDefinition !== "function") {
      note("Preview loads when the forms script is available.");
      return;
    }
    var shown = definition();
    if (!shown.fields.length) {
      note("Choose a property for a field to see the form here.");
      return;
    }
    try {
      preview.textContent = "";
      // css "": the dashboard's CSP allows no injected <style>; dashboard.css styles the preview.
      forms.renderDefinition(shown, preview, { preview: true, css: "" });
    } catch (error) {
      note("The preview could not be drawn: " + error.message);
    }
  }

  var timer = null;
  function redraw() {
    window.clearTimeout(timer);
    timer = window.setTimeout(draw, 150);
  }

  builder.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-op]");
    if (button && builder.contains(button)) {
      event.preventDefault();
      operate(button);
      redraw();
    }
  });

  builder.addEventListener("change", function (event) {
    var row = event.target.closest("[data-row]");
    var name = event.target.getAttribute("data-part");
    if (row && name === "property") {
      suggest(row);
    } else if (row && name === "type") {
      showParts(row);
    } else if (event.target.name === "after") {
      builder.setAttribute("data-after", event.target.value);
    }
    redraw();
  });

  builder.addEventListener("input", redraw);

  // The server adds empty rows for adding fields without scripts; here "Add field" does that.
  var filled = rows().filter(function (row) {
    return !isBlank(row);
  });
  rows().forEach(function (row) {
    if (isBlank(row) && (filled.length || row !== rows()[0])) {
      row.remove();
    }
  });
  rows().forEach(showParts);
  renumber();
  draw();
  // The embed script may define renderDefinition after this script ran (a slow load).
  window.addEventListener("load", draw);
})();
