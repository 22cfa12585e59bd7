// Tests for src/hubtrail/web/static/forms-embed.js, hubtrail's hbspt.forms. Run with
// `node --test tests/js/` (Node 20, no packages).
//
// Only the parts that need no DOM: how the script starts (its own URL, an existing hbspt),
// the checks it makes before sending (core/forms.py's, whose agreement with the server is also
// checked from Python in tests/web/test_forms_embed.py), how a server error finds its field,
// and that bad calls warn instead of throwing. Rendering and submitting run in Chromium
// (tests/browser/test_forms.py).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import vm from "node:vm";

const SOURCE_URL = new URL("../../src/hubtrail/web/static/forms-embed.js", import.meta.url);
const SOURCE = readFileSync(SOURCE_URL, "utf8");
const SCRIPT_URL = "https://track.example.com/forms/embed/v2.js";

// A page with the script evaluated in it: its <script> is document.currentScript while it runs.
function loadPage({ currentScript = SCRIPT_URL, hbspt, fetch } = {}) {
  const warnings = [];
  const document = {
    currentScript: currentScript ? { src: currentScript } : null,
    getElementsByTagName: () => [],
    cookie: "",
    title: "A page",
  };
  const window = {
    document,
    console: { warn: (...args) => warnings.push(args.map(String).join(" ")) },
    location: { href: "https://www.shop.example/signup", search: "" },
    setTimeout,
    clearTimeout,
  };
  if (hbspt) {
    window.hbspt = hbspt;
  }
  if (fetch) {
    window.fetch = fetch;
  }
  window.window = window;
  vm.createContext(window);
  vm.runInContext(SOURCE, window, { filename: "forms-embed.js" });
  document.currentScript = null;
  return { window, document, warnings };
}

const forms = () => loadPage().window.hbspt.forms;

// The error type checkField finds, or null.
function errorType(field, values, badInput = false) {
  const found = forms().hubtrail.checkField(field, values, badInput);
  return found ? found.type : null;
}

const OPTIONS = [{ label: "Small", value: "small" }, { label: "Large", value: "large" }];

describe("starting", () => {
  test("defines hbspt.forms.create and renderDefinition", () => {
    const { window, warnings } = loadPage();
    assert.equal(typeof window.hbspt.forms.create, "function");
    assert.equal(typeof window.hbspt.forms.renderDefinition, "function");
    assert.equal(window.hbspt.forms.hubtrail.version, "1.0.0");
    assert.deepEqual(warnings, []);
  });

  test("keeps the other members of an hbspt already on the page", () => {
    const cta = { load() {} };
    const { window } = loadPage({ hbspt: { cta } });
    assert.equal(window.hbspt.cta, cta);
    assert.equal(typeof window.hbspt.forms.create, "function");
  });

  test("a second copy leaves the first in place", () => {
    const first = loadPage().window.hbspt;
    const again = loadPage({ hbspt: first }).window.hbspt;
    assert.equal(again.forms, first.forms);
  });
});

describe("checks before sending (core/forms.py _checked)", () => {
  test("required: nothing, or only spaces, is missing", () => {
    const field = { name: "email", type: "email", required: true };
    assert.equal(errorType(field, []), "REQUIRED_FIELD");
    assert.equal(errorType(field, ["   "]), "REQUIRED_FIELD");
    assert.equal(errorType({ ...field, required: false }, []), null);
  });

  test("email syntax, basic", () => {
    const field = { name: "email", type: "email" };
    assert.equal(errorType(field, ["ada@example.com"]), null);
    assert.equal(errorType(field, [" ada@example.com "]), null);
    for (const bad of ["ada", "ada@", "@example.com", "ada@example", "a b@example.com"]) {
      assert.equal(errorType(field, [bad]), "INVALID_EMAIL", bad);
    }
  });

  test("numbers and their range, with the message naming the bounds", () => {
    const field = { name: "employees", type: "number", min: 1, max: 500 };
    assert.equal(errorType(field, ["12"]), null);
    assert.equal(errorType(field, ["1.5e2"]), null);
    assert.equal(errorType(field, ["twelve"]), "INVALID_NUMBER");
    assert.equal(errorType(field, ["0"]), "NUMBER_OUT_OF_RANGE");
    assert.equal(errorType(field, ["501"]), "NUMBER_OUT_OF_RANGE");
    const check = forms().hubtrail.checkField;
    assert.equal(check(field, ["0"]).message, "Please enter a number between 1 and 500.");
    assert.equal(check({ ...field, max: null }, ["0"]).message,
      "Please enter a number of at least 1.");
    assert.equal(errorType(field, [], true), "INVALID_NUMBER", "the browser could not read it");
  });

  test("dates as YYYY-MM-DD, real days only", () => {
    const field = { name: "start", type: "date" };
    assert.equal(errorType(field, ["2026-02-28"]), null);
    for (const bad of ["2026-02-30", "28/02/2026", "2026-2-8", "tomorrow"]) {
      assert.equal(errorType(field, [bad]), "INVALID_DATE", bad);
    }
  });

  test("options: select and radio take one of them, checkboxes any of them", () => {
    for (const type of ["select", "radio"]) {
      const field = { name: "size", type, options: OPTIONS };
      assert.equal(errorType(field, ["large"]), null);
      assert.equal(errorType(field, ["Large"]), "INVALID_OPTION", "values, not labels");
    }
    const boxes = { name: "sizes", type: "checkbox", options: OPTIONS };
    assert.equal(errorType(boxes, ["small", "large"]), null);
    assert.equal(errorType(boxes, ["small", "huge"]), "INVALID_OPTION");
    assert.equal(errorType({ ...boxes, required: true }, []), "REQUIRED_FIELD");
  });

  test("too long", () => {
    const field = { name: "message", type: "textarea" };
    assert.equal(errorType(field, ["x".repeat(65536)]), null);
    assert.equal(errorType(field, ["x".repeat(65537)]), "FIELD_TOO_LONG");
  });
});

describe("server errors", () => {
  const fieldsByName = {
    email: { definition: { name: "email", type: "email" } },
    employees: { definition: { name: "employees", type: "number", min: 1, max: 500 } },
  };
  const parse = (error) => ({ ...forms().hubtrail.serverError(error, fieldsByName) });

  test("find their field in the message and read as the browser's own", () => {
    assert.deepEqual(parse({
      message: "Error in 'fields.email'. Invalid email address", errorType: "INVALID_EMAIL",
    }), {
      name: "email",
      type: "INVALID_EMAIL",
      message: "Please enter a valid email address, such as name@example.com.",
    });
    assert.equal(parse({
      message: "Error in 'fields.employees'. Enter a number between 1 and 500",
      errorType: "NUMBER_OUT_OF_RANGE",
    }).message, "Please enter a number between 1 and 500.");
  });

  test("an unknown type keeps the server's words; an unknown field is the form's", () => {
    assert.deepEqual(parse({ message: "Error in 'fields.email'. Blocked domain", errorType: "X" }),
      { name: "email", type: "X", message: "Blocked domain" });
    assert.equal(parse({ message: "Error in 'fields.other'. Nope", errorType: "X" }).name, null);
    assert.equal(parse({ message: "Something else", errorType: "" }).message, "Something else");
  });
});

describe("bad calls warn and never throw", () => {
  test("create without a portal id or form id", () => {
    const fetched = [];
    const page = loadPage({ fetch: (url) => { fetched.push(url); return new Promise(() => {}); } });
    const { create } = page.window.hbspt.forms;
    create();
    create({ portalId: "abc", formId: "f" });
    create({ portalId: 62515 });
    assert.deepEqual(fetched, []);
    assert.equal(page.warnings.length, 3);
    assert.match(page.warnings[0], /portalId/);
  });

  test("create fetches the definition from the script's own host", () => {
    const fetched = [];
    const page = loadPage({ fetch: (url) => { fetched.push(url); return new Promise(() => {}); } });
    page.window.hbspt.forms.create({ portalId: 62515, formId: "a/b", target: "#f" });
    assert.deepEqual(fetched, ["https://track.example.com/forms/v2/62515/a%2Fb/definition"]);
  });

  test("create without knowing where hubtrail is", () => {
    const page = loadPage({ currentScript: null, fetch: () => assert.fail("fetched") });
    page.window.hbspt.forms.create({ portalId: 1, formId: "f" });
    assert.match(page.warnings[0], /scriptBase/);
    const fetched = [];
    page.window.fetch = (url) => { fetched.push(url); return new Promise(() => {}); };
    page.window.hbspt.forms.create({ portalId: 1, formId: "f", scriptBase: "http://h.test/" });
    assert.deepEqual(fetched, ["http://h.test/forms/v2/1/f/definition"]);
  });

  test("a definition that failed to load is a warning", async () => {
    const page = loadPage({
      fetch: async () => ({ status: 404, json: async () => ({ status: "error", message: "gone" }) }),
    });
    page.window.hbspt.forms.create({ portalId: 1, formId: "f", target: "#f" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(page.warnings.length, 1);
    assert.match(page.warnings[0], /form f could not be loaded \(404\): gone/);
  });

  test("renderDefinition without a target", () => {
    const page = loadPage();
    assert.equal(page.window.hbspt.forms.renderDefinition({ fields: [] }, null), null);
    assert.equal(page.window.hbspt.forms.renderDefinition(null, null), null);
    assert.equal(page.warnings.length, 2);
  });
});
