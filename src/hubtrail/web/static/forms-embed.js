/*
 * forms-embed.js: hubtrail's stand-in for HubSpot's forms script
 * (js.hsforms.net/forms/embed/v2.js).
 *
 * Served at GET /forms/embed/v2.js (and /forms/v2.js, /forms/shell.js). A site keeps HubSpot's
 * embed code and only changes the host:
 *
 *   <script src="https://track.example.com/forms/embed/v2.js"></script>
 *   <script>hbspt.forms.create({portalId: "62515", formId: "…guid…", target: "#signup"});</script>
 *
 * hbspt.forms.create(options) fetches the form's public definition from the host this file was
 * loaded from ({base}/forms/v2/{portalId}/{formId}/definition), renders it into `target` (a CSS
 * selector or an element, whose content it replaces; without one, right after the <script> that
 * called create, else at the end of <body>), and sends submissions to
 * {base}/submissions/v3/integration/submit/{portalId}/{formId} with the visitor's hubspotutk
 * cookie (set by hubtrail.js) as context.hutk, so the visitor's earlier views join the contact.
 *
 * Options, as HubSpot's: portalId, formId, target, region (ignored: one host), css (a stylesheet
 * instead of the default one; "" for none), cssRequired (appended to it), cssClass,
 * submitButtonClass, errorClass, errorMessageClass, submitText, inlineMessage, redirectUrl,
 * formInstanceId, and the callbacks onBeforeFormInit(ctx), onFormReady(form),
 * onBeforeFormSubmit(form, values), onFormSubmit(form, values) (after validation, just before
 * sending: changes it makes to the inputs are sent) and onFormSubmitted(form, {redirectUrl,
 * submissionValues}). `form` is the <form> element, or jQuery(form) when the page has jQuery,
 * as HubSpot's script does; `values` is [{name, value}]. Each callback is also posted to the
 * window as HubSpot's global form events are: {type: "hsFormCallback", eventName, id, data}.
 * hubtrail's own option: scriptBase, where hubtrail is when this file's URL cannot tell.
 *
 * hbspt.forms.renderDefinition(definition, target, options) renders a definition object (the
 * public definition's shape) at once; with options.preview === true a submit only shows the
 * validation (the dashboard's live preview).
 *
 * The markup follows HubSpot's class names (hs-form, hs-form-field, hs-input, hs-error-msgs,
 * hs-button, submitted-message, …) so a site's CSS for HubSpot forms styles it; the default
 * stylesheet is in a cascade layer, so any rule of the site's wins. Every field has a <label
 * for> (a group, a fieldset and legend), help text and errors are tied to it with
 * aria-describedby, an invalid input gets aria-invalid="true", the error summary is a
 * role="alert" region, and focus moves to the first field to fix. Checks mirror the server's
 * (core/forms.py): required, email syntax, number range, YYYY-MM-DD dates, option lists; the
 * server's own errors are shown the same way.
 * Everything is built with textContent: no text from a definition or a visitor is parsed as HTML.
 *
 * Nothing here throws into the page: failures are reported with console.warn. Plain ES5 plus
 * Promise and fetch, no build step.
 */
(function (window, document) {
  "use strict";

  var VERSION = "1.0.0";
  var SCRIPT_NAME = /\/forms\/(?:embed\/v2|v2|shell)\.js(?:[?#]|$)/;
  var HUTK = /^[0-9a-f]{32}$/;
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
  var ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
  var NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
  var FIELD_IN_MESSAGE = /'fields\.([A-Za-z0-9_]+)'/;
  var MESSAGE_PREFIX = /^Error in '[^']*'\.\s*/;
  var MAX_VALUE_CHARS = 65536;  // core/forms.py MAX_VALUE_CHARS
  var DEFAULT_HONEYPOT = "hs_website_hp";
  var OBJECT_TYPE_IDS = {contacts: "0-1", companies: "0-2"};
  // HubSpot's field classes (hs-fieldtype-*) for hubtrail's field types
  var FIELD_CLASSES = {
    email: "text", text: "text", textarea: "textarea", number: "number", select: "select",
    radio: "radio", checkbox: "checkbox", date: "date"
  };
  // What browsers may fill in for the usual contact properties (WCAG 1.3.5)
  var AUTOCOMPLETE = {
    email: "email", firstname: "given-name", lastname: "family-name", phone: "tel",
    mobilephone: "tel", company: "organization", jobtitle: "organization-title",
    website: "url", address: "street-address", city: "address-level2", state: "address-level1",
    zip: "postal-code", country: "country-name"
  };
  // One wording per error type, whether the browser or the server found it
  var MESSAGES = {
    REQUIRED_FIELD: "Please complete this required field.",
    INVALID_EMAIL: "Please enter a valid email address, such as name@example.com.",
    INVALID_NUMBER: "Please enter a number.",
    INVALID_DATE: "Please enter a date as YYYY-MM-DD.",
    INVALID_OPTION: "Please choose one of the options.",
    FIELD_TOO_LONG: "This is too long."
  };
  var SENDING_FAILED = "The form could not be sent. Please check your connection and try again.";
  var TOO_MANY = "Too many submissions were sent from here. Please wait a minute and try again.";
  var GONE = "This form is no longer available.";
  var PREVIEW_VALID = "Preview: the values are valid. Nothing was sent.";
  var SR_ONLY = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;" +
    "clip:rect(0,0,0,0);white-space:nowrap;border:0";
  // Off-screen, not display:none: some bots skip fields that are not displayed
  var HONEYPOT_STYLE = "position:absolute;left:-10000px;top:auto;width:1px;height:1px;" +
    "overflow:hidden";

  // In a cascade layer, so any rule of the site's own wins over these, whatever its specificity.
  var DEFAULT_CSS = "@layer hubtrail-forms {\n" + [
    ":where(.hs-form){max-width:34rem;font:inherit;color:inherit}",
    ":where(.hs-form) .hs-form-field{margin:0 0 1.1rem}",
    ":where(.hs-form) fieldset{border:0;margin:0;padding:0;min-width:0}",
    ":where(.hs-form) :where(.hs-form-field>label,legend){display:block;font-weight:600;" +
      "margin:0 0 .35rem;padding:0}",
    ":where(.hs-form) .hs-form-required{color:#b3261e;margin-left:.15em}",
    ":where(.hs-form) .hs-field-desc{color:#5f6368;font-size:.875em;margin:-.15rem 0 .4rem}",
    ":where(.hs-form) .hs-input{box-sizing:border-box;width:100%;margin:0;padding:.55rem .7rem;" +
      "border:1px solid #8c9199;border-radius:6px;background:#fff;color:#1f2328;font:inherit;" +
      "line-height:1.35}",
    ":where(.hs-form) textarea.hs-input{min-height:6.5rem;resize:vertical}",
    ":where(.hs-form) .hs-input:focus{outline:2px solid #1a56db;outline-offset:1px;" +
      "border-color:#1a56db}",
    ":where(.hs-form) .hs-input.invalid{border-color:#b3261e;background:#fffafa}",
    ":where(.hs-form) .inputs-list{list-style:none;margin:0;padding:0}",
    ":where(.hs-form) .inputs-list>li{margin:.3rem 0}",
    ":where(.hs-form) .inputs-list label{display:inline-flex;align-items:center;gap:.5rem;" +
      "font-weight:400;cursor:pointer}",
    ":where(.hs-form) .inputs-list .hs-input{width:1.1rem;height:1.1rem;accent-color:#1a56db}",
    ":where(.hs-form) .inputs-list .hs-input.invalid{outline:2px solid #b3261e;outline-offset:1px}",
    ":where(.hs-form) .hs-error-msgs{list-style:none;margin:.4rem 0 0;padding:0;color:#b3261e;" +
      "font-size:.875em}",
    ":where(.hs-form) .hs-error-msgs label{display:block;font-weight:600;margin:0}",
    ":where(.hs-form) .hs_error_rollup:not(:empty){margin:0 0 1rem;padding:.65rem .9rem;" +
      "border-left:4px solid #b3261e;border-radius:4px;background:#fdecea;color:#8c1d18}",
    ":where(.hs-form) .hs_error_rollup.hs-preview-note{border-left-color:#1a56db;" +
      "background:#e8f0fe;color:#174ea6}",
    ":where(.hs-form) .hs-button{display:inline-block;margin:0;padding:.65rem 1.5rem;border:0;" +
      "border-radius:6px;background:#1a56db;color:#fff;font:inherit;font-weight:600;" +
      "cursor:pointer}",
    ":where(.hs-form) .hs-button:hover{background:#1546b3}",
    ":where(.hs-form) .hs-button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ":where(.hs-form) .hs-button[disabled]{opacity:.65;cursor:progress}",
    ":where(.submitted-message){max-width:34rem;padding:1rem 1.2rem;border-left:4px solid " +
      "#15803d;border-radius:4px;background:#ecfdf3;color:#14532d;white-space:pre-line}",
    ":where(.submitted-message):focus{outline:none}"  // focused only to be read out
  ].join("\n") + "\n}";

  // This file's own URL, read now: document.currentScript is only set while a script runs.
  var ownSource = currentScriptSource();
  var injected = {};  // stylesheets added to this page, by their text

  function warn(message, error) {
    try {
      if (error === undefined) {
        window.console.warn("hubtrail forms: " + message);
      } else {
        window.console.warn("hubtrail forms: " + message, error);
      }
    } catch (ignored) { /* no console: nothing to do */ }
  }

  function currentScriptSource() {
    try {
      if (document.currentScript && document.currentScript.src) {
        return document.currentScript.src;
      }
      var scripts = document.getElementsByTagName("script");
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (SCRIPT_NAME.test(scripts[i].src || "")) {
          return scripts[i].src;
        }
      }
    } catch (ignored) { /* no document to look at */ }
    return "";
  }

  /* ---------------------------------------------------------------- small helpers */

  function isObject(value) {
    return value !== null && typeof value === "object";
  }

  function text(value) {
    return value == null ? "" : String(value);
  }

  function trim(value) {
    return text(value).replace(/^\s+|\s+$/g, "");
  }

  function originOf(url) {
    var origin = /^https?:\/\/[^\/?#]+/i.exec(url || "");
    return origin ? origin[0] : "";
  }

  function baseUrl(options) {
    var base = options.scriptBase ? text(options.scriptBase) : originOf(ownSource);
    return base.replace(/\/+$/, "");
  }

  function readCookie(name) {
    var all;
    try {
      all = document.cookie || "";
    } catch (blocked) {
      return null;  // a sandboxed frame
    }
    var parts = all.split(/;\s*/);
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].slice(0, name.length + 1) === name + "=") {
        return parts[i].slice(name.length + 1);
      }
    }
    return null;
  }

  // A value from the page's query string, as HubSpot pre-fills fields by their property names.
  function queryParam(name) {
    var pairs = (window.location.search || "").replace(/^\?/, "").split("&");
    for (var i = 0; i < pairs.length; i++) {
      var eq = pairs[i].indexOf("=");
      if (eq > 0 && pairs[i].slice(0, eq) === name) {
        try {
          return decodeURIComponent(pairs[i].slice(eq + 1).replace(/\+/g, " "));
        } catch (badEncoding) {
          return null;
        }
      }
    }
    return null;
  }

  // An element with attributes (null ones left out) and children (strings become text).
  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    for (var name in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, name) || attributes[name] == null ||
          attributes[name] === false) {
        continue;
      }
      if (name === "style") {
        node.style.cssText = attributes[name];  // through the CSSOM: allowed under a strict CSP
      } else {
        node.setAttribute(name, attributes[name] === true ? "" : text(attributes[name]));
      }
    }
    for (var i = 0; children && i < children.length; i++) {
      if (children[i] != null) {
        node.appendChild(typeof children[i] === "string" ?
          document.createTextNode(children[i]) : children[i]);
      }
    }
    return node;
  }

  function addClass(node, names) {
    var list = text(names).split(/\s+/);
    for (var i = 0; i < list.length; i++) {
      if (list[i]) {
        node.classList.add(list[i]);
      }
    }
  }

  function removeClass(node, names) {
    var list = text(names).split(/\s+/);
    for (var i = 0; i < list.length; i++) {
      if (list[i]) {
        node.classList.remove(list[i]);
      }
    }
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  // For ids: letters, digits, "-" and "_" only.
  function idPart(value) {
    return text(value).replace(/[^A-Za-z0-9_-]/g, "_");
  }

  // Adds a stylesheet once per page: a constructed one where the browser has them (a page's
  // Content-Security-Policy without 'unsafe-inline' does not block those), else a <style>.
  function injectCss(css) {
    if (!css || injected[css]) {
      return;
    }
    injected[css] = true;
    try {
      if (typeof window.CSSStyleSheet === "function" && document.adoptedStyleSheets &&
          typeof window.CSSStyleSheet.prototype.replaceSync === "function") {
        var sheet = new window.CSSStyleSheet();
        sheet.replaceSync(css);
        document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
        return;
      }
    } catch (unsupported) { /* a <style> then */ }
    var style = element("style", {"data-hubtrail-forms": VERSION}, [css]);
    (document.head || document.documentElement).appendChild(style);
  }

  /* ---------------------------------------------------------------- callbacks */

  function formArgument(form) {
    var jQuery = window.jQuery;
    if (typeof jQuery === "function") {
      try {
        return jQuery(form);
      } catch (ignored) { /* not a usable jQuery: the element then */ }
    }
    return form;
  }

  // Calls options[name] (never letting it throw here) and posts HubSpot's global form event.
  function callBack(instance, name, args, data) {
    var fn = instance.options[name];
    if (typeof fn === "function") {
      try {
        fn.apply(null, args);
      } catch (error) {
        warn(name + " failed:", error);
      }
    }
    try {
      window.postMessage({
        type: "hsFormCallback", eventName: name, id: instance.guid,
        data: data === undefined ? {} : data
      }, "*");
    } catch (ignored) { /* data that cannot be cloned: the callback above ran anyway */ }
  }

  /* ---------------------------------------------------------------- checking values */

  function numberText(value) {
    return text(value).replace(/\.0+$/, "");
  }

  function rangeMessage(field) {
    var low = field.min != null && field.min !== "";
    var high = field.max != null && field.max !== "";
    if (low && high) {
      return "Please enter a number between " + numberText(field.min) + " and " +
        numberText(field.max) + ".";
    }
    if (low) {
      return "Please enter a number of at least " + numberText(field.min) + ".";
    }
    return "Please enter a number of at most " + numberText(field.max) + ".";
  }

  function realDay(value) {
    var parts = ISO_DAY.exec(value);
    if (!parts) {
      return false;
    }
    var year = +parts[1];
    var month = +parts[2] - 1;
    var day = +parts[3];
    var check = new Date(Date.UTC(year, month, day));
    return check.getUTCFullYear() === year && check.getUTCMonth() === month &&
      check.getUTCDate() === day;
  }

  function hasOption(field, value) {
    var options = field.options || [];
    for (var i = 0; i < options.length; i++) {
      if (text(options[i].value) === value) {
        return true;
      }
    }
    return false;
  }

  function problem(type, message) {
    return {type: type, message: message || MESSAGES[type]};
  }

  // The error ({type, message}) of one field's values, or null: the checks of core/forms.py
  // _checked. `badInput`: the browser holds text its number or date input cannot read.
  function checkField(field, values, badInput) {
    var given = [];
    for (var i = 0; i < (values || []).length; i++) {
      var value = trim(values[i]);
      if (value !== "") {
        given.push(value);
      }
    }
    if (!given.length) {
      if (badInput) {
        return problem(field.type === "date" ? "INVALID_DATE" : "INVALID_NUMBER");
      }
      return field.required ? problem("REQUIRED_FIELD") : null;
    }
    for (var j = 0; j < given.length; j++) {
      if (given[j].length > MAX_VALUE_CHARS) {
        return problem("FIELD_TOO_LONG");
      }
    }
    var options = field.options || [];
    if (field.type === "checkbox" && options.length) {
      for (var k = 0; k < given.length; k++) {
        if (!hasOption(field, given[k])) {
          return problem("INVALID_OPTION");
        }
      }
      return null;
    }
    var last = given[given.length - 1];
    if (field.type === "email") {
      return EMAIL.test(last) ? null : problem("INVALID_EMAIL");
    }
    if (field.type === "number") {
      if (!NUMBER.test(last)) {
        return problem("INVALID_NUMBER");
      }
      var number = parseFloat(last);
      if ((field.min != null && number < field.min) || (field.max != null && number > field.max)) {
        return problem("NUMBER_OUT_OF_RANGE", rangeMessage(field));
      }
      return null;
    }
    if (field.type === "date") {
      return realDay(last) ? null : problem("INVALID_DATE");
    }
    if ((field.type === "select" || field.type === "radio") && !hasOption(field, last)) {
      return problem("INVALID_OPTION");
    }
    return null;
  }

  // A submission error from the server as {name, type, message}: `name` is the field its
  // message names ("Error in 'fields.email'. …"), or null for one about the whole form.
  function serverError(error, fieldsByName) {
    var message = text(error && error.message);
    var found = FIELD_IN_MESSAGE.exec(message);
    var name = found ? found[1] : null;
    var type = text(error && error.errorType);
    var field = name ? fieldsByName[name] : null;
    var shown;
    if (type === "NUMBER_OUT_OF_RANGE" && field) {
      shown = rangeMessage(field.definition);
    } else {
      shown = MESSAGES[type] || message.replace(MESSAGE_PREFIX, "") || SENDING_FAILED;
    }
    return {name: field ? name : null, type: type, message: shown};
  }

  /* ---------------------------------------------------------------- rendering */

  function isGroup(field) {
    return field.type === "radio" || (field.type === "checkbox" && (field.options || []).length);
  }

  function fieldClass(field) {
    if (field.type === "checkbox" && !(field.options || []).length) {
      return "booleancheckbox";
    }
    return FIELD_CLASSES[field.type] || "text";
  }

  function startValue(field) {
    var fromQuery = queryParam(field.name);
    return fromQuery !== null ? fromQuery : text(field.defaultValue);
  }

  function labelContent(field, group) {
    var parts = [element("span", {}, [text(field.label || field.name)])];
    if (field.required) {
      parts.push(element("span", {"class": "hs-form-required", "aria-hidden": "true"}, ["*"]));
      if (group) {  // a group has no `required` of its own to announce
        parts.push(element("span", {style: SR_ONLY}, [" (required)"]));
      }
    }
    return parts;
  }

  function textControl(field, id, value) {
    var type = field.type;
    var attributes = {
      id: id,
      name: field.name,
      "class": "hs-input",
      required: !!field.required,
      "aria-required": field.required ? "true" : null,
      placeholder: field.placeholder || (type === "date" ? "YYYY-MM-DD" : null),
      autocomplete: AUTOCOMPLETE[field.name] || null
    };
    var control;
    if (type === "textarea") {
      control = element("textarea", attributes);
      control.value = value;
      return control;
    }
    if (type === "select") {
      control = element("select", attributes, [
        element("option", {value: "", disabled: !!field.required},
          [field.placeholder || "Please select"])
      ]);
      control.removeAttribute("placeholder");
      var options = field.options || [];
      for (var i = 0; i < options.length; i++) {
        control.appendChild(element("option", {value: text(options[i].value)},
          [text(options[i].label)]));
      }
      control.value = hasOption(field, value) ? value : "";
      return control;
    }
    attributes.type = {email: "email", number: "number", date: "date"}[type] || "text";
    if (type === "number") {
      attributes.min = field.min;
      attributes.max = field.max;
      attributes.step = "any";
      attributes.inputmode = "decimal";
    }
    control = element("input", attributes);
    control.value = value;
    return control;
  }

  // Radio buttons or checkboxes with options: a fieldset, one labelled input per option.
  function groupControls(field, id, value, inputs) {
    var multiple = field.type === "checkbox";
    var chosen = multiple ? value.split(";") : [value];
    var list = element("ul", {"class": "inputs-list multi-container", role: "presentation"});
    var options = field.options || [];
    for (var i = 0; i < options.length; i++) {
      var optionValue = text(options[i].value);
      var input = element("input", {
        id: id + "-" + i,
        name: field.name,
        "class": "hs-input",
        type: multiple ? "checkbox" : "radio",
        value: optionValue,
        required: !multiple && !!field.required
      });
      input.checked = chosen.indexOf(optionValue) >= 0;
      inputs.push(input);
      var kind = multiple ? "hs-form-checkbox" : "hs-form-radio";
      list.appendChild(element("li", {"class": kind, role: "presentation"}, [
        element("label", {"for": input.id, "class": kind + "-display"}, [
          input, element("span", {}, [text(options[i].label)])
        ])
      ]));
    }
    return list;
  }

  // One checkbox for a yes/no property: checked sends "true", unchecked sends nothing.
  function booleanControl(field, id, value, inputs) {
    var input = element("input", {
      id: id, name: field.name, "class": "hs-input", type: "checkbox", value: "true",
      required: !!field.required, "aria-required": field.required ? "true" : null
    });
    input.checked = /^(true|on|yes|1|checked)$/i.test(value);
    inputs.push(input);
    return element("ul", {"class": "inputs-list", role: "presentation"}, [
      element("li", {"class": "hs-form-booleancheckbox", role: "presentation"}, [
        element("label", {"for": id, "class": "hs-form-booleancheckbox-display"},
          [input, element("span", {}, labelContent(field, false))])
      ])
    ]);
  }

  // A field's wrapper, label, help text, input(s) and (empty) error list; an entry of the
  // instance's `fields`.
  function renderField(instance, field) {
    var id = idPart(field.name) + "-" + instance.idBase;
    var value = startValue(field);
    var entry = {definition: field, name: field.name, id: id, inputs: [], error: null};
    if (field.type === "hidden") {
      var hidden = element("input", {type: "hidden", name: field.name});
      hidden.value = value;
      entry.inputs.push(hidden);
      entry.wrapper = hidden;
      return entry;
    }
    var helpId = field.helpText ? id + "-description" : null;
    var help = helpId ? element("div", {id: helpId, "class": "hs-field-desc"},
      [text(field.helpText)]) : null;
    entry.helpId = helpId;
    entry.errorId = id + "-error";
    entry.errorList = element("ul", {
      id: entry.errorId, "class": instance.errorMessageClass + " no-list", hidden: true
    });
    var wrapper = element("div", {
      "class": "hs_" + idPart(field.name) + " hs-" + idPart(field.name) + " hs-fieldtype-" +
        fieldClass(field) + " field hs-form-field"
    });
    if (isGroup(field)) {
      var list = groupControls(field, id, value, entry.inputs);
      wrapper.appendChild(element("fieldset", {
        id: id, role: field.type === "radio" ? "radiogroup" : null, "aria-labelledby": "label-" + id
      }, [
        element("legend", {id: "label-" + id, "class": "hs-form-legend"},
          labelContent(field, true)),
        help,
        list
      ]));
    } else if (field.type === "checkbox") {
      wrapper.appendChild(element("div", {"class": "input"},
        [booleanControl(field, id, value, entry.inputs)]));
      if (help) {
        wrapper.appendChild(help);
      }
    } else {
      var control = textControl(field, id, value);
      entry.inputs.push(control);
      wrapper.appendChild(element("label", {id: "label-" + id, "for": id},
        labelContent(field, false)));
      if (help) {
        wrapper.appendChild(help);
      }
      wrapper.appendChild(element("div", {"class": "input"}, [control]));
    }
    wrapper.appendChild(entry.errorList);
    entry.wrapper = wrapper;
    describe(entry);
    return entry;
  }

  // aria-describedby of each input: the help text, and the errors when there are some.
  function describe(entry) {
    var ids = [];
    if (entry.helpId) {
      ids.push(entry.helpId);
    }
    if (entry.error) {
      ids.push(entry.errorId);
    }
    for (var i = 0; i < entry.inputs.length; i++) {
      if (ids.length) {
        entry.inputs[i].setAttribute("aria-describedby", ids.join(" "));
      } else {
        entry.inputs[i].removeAttribute("aria-describedby");
      }
    }
  }

  function renderHoneypot(name, idBase) {
    var id = name + "-" + idBase;
    var input = element("input", {
      id: id, name: name, type: "text", tabindex: "-1", autocomplete: "off", "class": "hs-input"
    });
    var wrapper = element("div", {
      "class": "hs_" + name + " hs-" + name + " field hs-form-field", "aria-hidden": "true",
      style: HONEYPOT_STYLE
    }, [element("label", {"for": id}, ["Leave this field empty"]), input]);
    return {wrapper: wrapper, input: input};
  }

  function renderForm(instance) {
    var definition = instance.definition;
    var guid = instance.guid;
    var form = element("form", {
      id: "hsForm_" + instance.idBase,
      "class": "hs-form stacked hs-form-" + idPart(guid) +
        (instance.idBase !== idPart(guid) ? " hs-form-" + instance.idBase : ""),
      method: "POST",
      action: instance.submitUrl || null,
      "accept-charset": "UTF-8",
      novalidate: true,  // the checks below run instead, with errors shown beside each field
      "data-form-id": guid,
      "data-portal-id": text(definition.portalId)
    });
    addClass(form, instance.options.cssClass);
    instance.form = form;
    instance.fields = [];
    instance.fieldsByName = {};
    var fields = definition.fields || [];
    for (var i = 0; i < fields.length; i++) {
      if (!isObject(fields[i]) || !fields[i].name) {
        continue;
      }
      var entry = renderField(instance, fields[i]);
      instance.fields.push(entry);
      instance.fieldsByName[entry.name] = entry;
      form.appendChild(entry.wrapper);
    }
    var honeypot = renderHoneypot(text(definition.honeypot) || DEFAULT_HONEYPOT, instance.idBase);
    instance.honeypot = honeypot.input;
    form.appendChild(honeypot.wrapper);
    instance.rollup = element("div", {"class": "hs_error_rollup", role: "alert"});
    form.appendChild(instance.rollup);
    instance.button = element("input", {
      type: "submit",
      "class": text(instance.options.submitButtonClass || "hs-button primary large"),
      value: text(instance.options.submitText || definition.submitLabel || "Submit")
    });
    form.appendChild(element("div", {"class": "hs_submit hs-submit"}, [
      element("div", {"class": "actions"}, [instance.button])
    ]));
    form.addEventListener("submit", function (event) {
      try {
        event.preventDefault();
        submit(instance);
      } catch (error) {
        warn("the submit failed:", error);
      }
    });
    return form;
  }

  /* ---------------------------------------------------------------- errors on screen */

  function showFieldError(instance, entry, message) {
    entry.error = message;
    clear(entry.errorList);
    entry.errorList.appendChild(element("li", {}, [
      element("label", {"class": "hs-error-msg hs-main-font-element"}, [message])
    ]));
    entry.errorList.removeAttribute("hidden");
    for (var i = 0; i < entry.inputs.length; i++) {
      entry.inputs[i].setAttribute("aria-invalid", "true");
      addClass(entry.inputs[i], instance.errorClass);
    }
    describe(entry);
  }

  function clearErrors(instance) {
    for (var i = 0; i < instance.fields.length; i++) {
      var entry = instance.fields[i];
      if (!entry.errorList) {
        continue;
      }
      entry.error = null;
      clear(entry.errorList);
      entry.errorList.setAttribute("hidden", "");
      for (var j = 0; j < entry.inputs.length; j++) {
        entry.inputs[j].removeAttribute("aria-invalid");
        removeClass(entry.inputs[j], instance.errorClass);
      }
      describe(entry);
    }
    showSummary(instance, []);
  }

  // The role="alert" summary: one line per message (empty: the region stays, silent). With a
  // `note` class the lines are news, not errors.
  function showSummary(instance, lines, note) {
    var rollup = instance.rollup;
    clear(rollup);
    rollup.className = "hs_error_rollup" + (note ? " " + note : "");
    if (!lines.length) {
      return;
    }
    var list = element("ul", {"class": (note ? "" : "hs-error-msgs ") + "inputs-list no-list"});
    for (var i = 0; i < lines.length; i++) {
      list.appendChild(element("li", {}, [
        element("label", {"class": "hs-main-font-element"}, [lines[i]])
      ]));
    }
    rollup.appendChild(list);
  }

  function focusField(entry) {
    var target = entry.inputs[0];
    for (var i = 0; i < entry.inputs.length; i++) {
      if (entry.inputs[i].checked) {
        target = entry.inputs[i];
        break;
      }
    }
    try {
      target.focus();
    } catch (ignored) { /* not focusable: the summary still says what is wrong */ }
  }

  // Shows `errors` ([{name, message}], name null for the whole form) and moves focus to the
  // first field to fix.
  function showErrors(instance, errors) {
    clearErrors(instance);
    var firstField = null;
    var labels = [];
    var general = [];
    for (var i = 0; i < errors.length; i++) {
      var entry = errors[i].name ? instance.fieldsByName[errors[i].name] : null;
      if (entry && entry.errorList && !entry.error) {
        showFieldError(instance, entry, errors[i].message);
        labels.push(text(entry.definition.label || entry.name));
        firstField = firstField || entry;
      } else if (entry && !entry.errorList) {  // a hidden field: no place beside it
        general.push(text(entry.definition.label || entry.name) + ": " + errors[i].message);
      } else if (!entry) {
        general.push(errors[i].message);
      }
    }
    var lines = general;
    if (labels.length === 1) {
      lines.unshift("Please check this field: " + labels[0] + ".");
    } else if (labels.length > 1) {
      lines.unshift("Please check these " + labels.length + " fields: " + labels.join(", ") + ".");
    }
    showSummary(instance, lines);
    if (firstField) {
      focusField(firstField);
    }
  }

  /* ---------------------------------------------------------------- values */

  function valuesOf(entry) {
    var values = [];
    for (var i = 0; i < entry.inputs.length; i++) {
      var input = entry.inputs[i];
      if (input.type === "checkbox" || input.type === "radio") {
        if (input.checked) {
          values.push(input.value);
        }
      } else {
        values.push(input.value);
      }
    }
    return values;
  }

  function badInput(entry) {
    var input = entry.inputs[0];
    return !!(input && input.validity && input.validity.badInput);
  }

  // [{name, value, objectTypeId}] for every value that is filled in: a multi-checkbox sends its
  // name once per box; the honeypot only when something (a bot) filled it.
  function collect(instance) {
    var collected = [];
    for (var i = 0; i < instance.fields.length; i++) {
      var entry = instance.fields[i];
      var values = valuesOf(entry);
      for (var j = 0; j < values.length; j++) {
        var value = trim(values[j]);
        if (value !== "") {
          collected.push({
            name: entry.name,
            value: value,
            objectTypeId: OBJECT_TYPE_IDS[entry.definition.objectType] || "0-1"
          });
        }
      }
    }
    if (trim(instance.honeypot.value) !== "") {
      collected.push({name: instance.honeypot.name, value: instance.honeypot.value,
        objectTypeId: "0-1"});
    }
    return collected;
  }

  function namesAndValues(collected) {
    var list = [];
    for (var i = 0; i < collected.length; i++) {
      list.push({name: collected[i].name, value: collected[i].value});
    }
    return list;
  }

  // HubSpot's submissionValues: {name: value}, a multi-checkbox's values joined with ";".
  function valuesByName(collected) {
    var values = {};
    for (var i = 0; i < collected.length; i++) {
      var name = collected[i].name;
      values[name] = values[name] === undefined ? collected[i].value :
        values[name] + ";" + collected[i].value;
    }
    return values;
  }

  function check(instance) {
    var errors = [];
    for (var i = 0; i < instance.fields.length; i++) {
      var entry = instance.fields[i];
      var found = checkField(entry.definition, valuesOf(entry), badInput(entry));
      if (found) {
        errors.push({name: entry.name, type: found.type, message: found.message});
      }
    }
    return errors;
  }

  /* ---------------------------------------------------------------- submitting */

  function submissionBody(collected) {
    var fields = [];
    for (var i = 0; i < collected.length; i++) {
      fields.push({
        objectTypeId: collected[i].objectTypeId, name: collected[i].name, value: collected[i].value
      });
    }
    var context = {pageUri: window.location.href, pageName: document.title || ""};
    var hutk = readCookie("hubspotutk");
    if (hutk && HUTK.test(hutk)) {
      context.hutk = hutk;
    }
    return {fields: fields, context: context, submittedAt: String(new Date().getTime())};
  }

  function setSending(instance, sending) {
    instance.sending = sending;
    instance.button.disabled = sending;
    if (sending) {
      instance.form.setAttribute("aria-busy", "true");
    } else {
      instance.form.removeAttribute("aria-busy");
    }
  }

  function submit(instance) {
    if (instance.sending || instance.done) {
      return;
    }
    var form = formArgument(instance.form);
    var before = namesAndValues(collect(instance));
    callBack(instance, "onBeforeFormSubmit", [form, before], before);
    var errors = check(instance);
    if (errors.length) {
      showErrors(instance, errors);
      return;
    }
    clearErrors(instance);
    if (instance.preview) {
      showSummary(instance, [PREVIEW_VALID], "hs-preview-note");
      return;
    }
    var values = namesAndValues(collect(instance));
    callBack(instance, "onFormSubmit", [form, values], values);
    var collected = collect(instance);  // again: onFormSubmit may have changed the inputs
    if (!instance.submitUrl || typeof window.fetch !== "function") {
      warn(instance.submitUrl ? "this browser has no fetch: the form cannot be sent" :
        "hubtrail's address is unknown (set the scriptBase option): the form cannot be sent");
      showSummary(instance, [SENDING_FAILED]);
      return;
    }
    setSending(instance, true);
    window.fetch(instance.submitUrl, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(submissionBody(collected))
    }).then(function (response) {
      return response.json().then(function (body) {
        return {status: response.status, body: body};
      }, function () {
        return {status: response.status, body: null};
      });
    }).then(function (answer) {
      setSending(instance, false);
      answered(instance, answer.status, isObject(answer.body) ? answer.body : {}, collected);
    })["catch"](function (error) {
      setSending(instance, false);
      warn("the submission could not be sent:", error);
      showSummary(instance, [SENDING_FAILED]);
    });
  }

  function answered(instance, status, body, collected) {
    if (status >= 200 && status < 300) {
      succeeded(instance, body, collected);
      return;
    }
    if (status === 400 && body.errors && body.errors.length) {
      var errors = [];
      for (var i = 0; i < body.errors.length; i++) {
        errors.push(serverError(body.errors[i], instance.fieldsByName));
      }
      showErrors(instance, errors);
      return;
    }
    warn("the submission was refused (" + status + "): " + text(body.message));
    showSummary(instance, [status === 429 ? TOO_MANY : status === 404 ? GONE : SENDING_FAILED]);
  }

  function succeeded(instance, body, collected) {
    instance.done = true;
    var definition = instance.definition;
    var options = instance.options;
    var redirect = text(options.redirectUrl || body.redirectUri || definition.redirectUrl);
    if (redirect && !/^(https?:\/\/|\/)/i.test(redirect)) {
      warn("not going to " + JSON.stringify(redirect) + ": a redirect is an http(s) URL or a path");
      redirect = "";
    }
    var data = {redirectUrl: redirect, submissionValues: valuesByName(collected)};
    var form = instance.form;
    if (!redirect) {
      var message = text(options.inlineMessage || body.inlineMessage ||
        definition.thankYouMessage || "Thanks for submitting the form.");
      var thanks = element("div", {
        "class": "submitted-message hs-main-font-element hs-form-" + idPart(instance.guid),
        role: "status",
        tabindex: "-1"
      }, [message]);
      if (form.parentNode) {
        form.parentNode.replaceChild(thanks, form);
      }
      try {
        thanks.focus();
      } catch (ignored) { /* the message is announced as a status anyway */ }
    }
    callBack(instance, "onFormSubmitted", [formArgument(form), data], data);
    if (redirect) {
      window.location.href = redirect;
    }
  }

  /* ---------------------------------------------------------------- placing a form */

  function findTarget(target) {
    if (typeof target === "string") {
      try {
        return document.querySelector(target);
      } catch (badSelector) {
        return null;
      }
    }
    return isObject(target) && target.nodeType === 1 ? target : null;
  }

  // Calls place(element) once the target is in the document; without a target, with a new
  // element right after `anchor` (the <script> that called create) or at the end of <body>.
  function whenPlaced(target, anchor, place) {
    function attempt() {
      if (target) {
        var found = findTarget(target);
        if (found) {
          place(found);
          return true;
        }
        return false;
      }
      var container = element("div", {});
      if (anchor && anchor.parentNode) {
        anchor.parentNode.insertBefore(container, anchor.nextSibling);
      } else if (document.body) {
        document.body.appendChild(container);
      } else {
        return false;
      }
      place(container);
      return true;
    }
    if (attempt()) {
      return;
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        if (!attempt()) {
          warn("the target " + JSON.stringify(text(target)) + " is not on the page");
        }
      });
      return;
    }
    warn("the target " + JSON.stringify(text(target)) + " is not on the page");
  }

  // The first of guid, guid_2, guid_3, … (or guid_{formInstanceId}) that no form on the page
  // has: ids stay unique with the same form twice, and stable when a preview is redrawn.
  function freeIdBase(guid, options) {
    var base = idPart(guid);
    if (options.formInstanceId) {
      return base + "_" + idPart(options.formInstanceId);
    }
    var candidate = base;
    for (var n = 2; document.getElementById("hsForm_" + candidate); n++) {
      candidate = base + "_" + n;
    }
    return candidate;
  }

  function newInstance(definition, options) {
    var guid = text(definition.guid || options.formId);
    var base = baseUrl(options);
    var portalId = text(definition.portalId || options.portalId);
    return {
      definition: definition,
      options: options,
      guid: guid,
      idBase: freeIdBase(guid, options),
      preview: options.preview === true,
      submitUrl: base && portalId ? base + "/submissions/v3/integration/submit/" +
        encodeURIComponent(portalId) + "/" + encodeURIComponent(guid) : "",
      errorClass: text(options.errorClass || "invalid error"),
      errorMessageClass: text(options.errorMessageClass || "hs-error-msgs inputs-list"),
      sending: false,
      done: false
    };
  }

  // Renders into `container` (its content replaced) and tells the page the form is ready.
  function render(definition, container, options) {
    clear(container);
    var instance = newInstance(definition, options);
    injectCss((typeof options.css === "string" ? options.css : DEFAULT_CSS) +
      (options.cssRequired ? "\n" + text(options.cssRequired) : ""));
    callBack(instance, "onBeforeFormInit", [{formId: instance.guid, portalId:
      definition.portalId}]);
    var form = renderForm(instance);
    container.appendChild(element("div", {
      "class": "hbspt-form", id: "hbspt-form-" + instance.idBase
    }, [form]));
    callBack(instance, "onFormReady", [formArgument(form)]);
    return form;
  }

  /* ---------------------------------------------------------------- the API */

  function create(options) {
    try {
      options = isObject(options) ? options : {};
      var portalId = text(options.portalId);
      var formId = text(options.formId);
      if (!/^\d+$/.test(portalId) || !formId) {
        warn("hbspt.forms.create needs {portalId: '62515', formId: '<the form guid>'}; got " +
          JSON.stringify({portalId: options.portalId, formId: options.formId}));
        return;
      }
      var base = baseUrl(options);
      if (!base) {
        warn("this script does not know its own URL; give hbspt.forms.create a scriptBase " +
          "such as 'https://track.example.com'");
        return;
      }
      if (typeof window.fetch !== "function") {
        warn("this browser has no fetch: the form cannot be loaded");
        return;
      }
      var anchor = options.target ? null : document.currentScript;  // only set while it runs
      var url = base + "/forms/v2/" + encodeURIComponent(portalId) + "/" +
        encodeURIComponent(formId) + "/definition";
      window.fetch(url, {credentials: "omit"}).then(function (response) {
        return response.json().then(function (body) {
          return {status: response.status, body: body};
        });
      }).then(function (answer) {
        if (answer.status !== 200 || !isObject(answer.body)) {
          warn("form " + formId + " could not be loaded (" + answer.status + "): " +
            text(answer.body && answer.body.message));
          return;
        }
        whenPlaced(options.target, anchor, function (container) {
          try {
            render(answer.body, container, options);
          } catch (error) {
            warn("form " + formId + " could not be shown:", error);
          }
        });
      })["catch"](function (error) {
        warn("form " + formId + " could not be loaded from " + url + ":", error);
      });
    } catch (error) {
      warn("hbspt.forms.create failed:", error);
    }
  }

  // For the dashboard's live preview (options.preview), and for pages that hold a definition.
  function renderDefinition(definition, target, options) {
    try {
      options = isObject(options) ? options : {};
      var container = findTarget(target);
      if (!isObject(definition) || !container) {
        warn("renderDefinition needs a definition object and a target element");
        return null;
      }
      return render(definition, container, options);
    } catch (error) {
      warn("renderDefinition failed:", error);
      return null;
    }
  }

  try {
    var hbspt = window.hbspt = window.hbspt || {};
    if (hbspt.forms && hbspt.forms.hubtrail) {
      return;  // included twice: the first copy serves
    }
    hbspt.forms = {
      create: create,
      renderDefinition: renderDefinition,
      // for tests: the checks and the parsing of server errors, pure
      hubtrail: {version: VERSION, checkField: checkField, serverError: serverError}
    };
  } catch (error) {
    warn("could not start:", error);
  }
})(window, document);
