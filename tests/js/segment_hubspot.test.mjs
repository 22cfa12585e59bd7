// Tests for src/hubtrail/web/static/segment-hubspot.js, hubtrail's HubSpot destination plugin for
// @segment/analytics-next. Run with `node --test tests/js/` (Node 20, no packages).
//
// Each test evaluates the plugin afresh in its own vm context, whose global is a small fake
// window with a fake document: inserted <script> elements are recorded, not fetched, and console
// output is captured. The mapping cases I1-I10, T1-T7 and P1 are the expected _hsq payloads of
// Segment's analytics.js HubSpot integration tests.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import vm from "node:vm";

const SOURCE_URL = new URL("../../src/hubtrail/web/static/segment-hubspot.js", import.meta.url);
const SOURCE = readFileSync(SOURCE_URL, "utf8");
const PLUGIN_URL = "http://127.0.0.1:8080/static/segment-hubspot.js";
const EMAIL = "name@example.com";

// A page with the plugin evaluated in it, as analytics-next's loader would: the plugin's own
// <script> is document.currentScript while it runs, and only then.
function loadPage({ currentScript = PLUGIN_URL, onInsert = () => {} } = {}) {
  const inserted = [];
  const logs = { warn: [], info: [], error: [], log: [] };
  const record = (level) => (...args) => logs[level].push(args.map(String).join(" "));
  const document = {
    currentScript: currentScript ? { src: currentScript } : null,
    head: {
      appendChild(element) {
        inserted.push(element);
        onInsert(element, window);
        return element;
      },
    },
    createElement(tagName) {
      return { tagName: tagName.toUpperCase(), async: false, id: "", src: "", onerror: null };
    },
  };
  const console = {
    warn: record("warn"), info: record("info"), error: record("error"), log: record("log"),
  };
  const window = { document, console, setTimeout, clearTimeout };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(SOURCE, window, { filename: "segment-hubspot.js" });
  document.currentScript = null;
  const factory = window.hubtrailHubSpot;
  return { window, document, inserted, logs, factory };
}

function makePlugin(settings = { portalId: 62515, loadFormsSdk: false }, page = loadPage()) {
  const [plugin] = page.factory(settings);
  return { ...page, plugin };
}

// The plugin's objects belong to the vm context's realm; deepStrictEqual also compares
// prototypes, so values are copied into this realm before they are compared.
function local(value) {
  if (Array.isArray(value)) {
    return Array.from(value, local);
  }
  if (Object.prototype.toString.call(value) === "[object Object]") {
    const copy = {};
    for (const key of Object.keys(value)) {
      copy[key] = local(value[key]);
    }
    return copy;
  }
  return value;
}

// What the plugin pushed onto _hsq while no tracker had taken it over: the queue itself.
function queued(window) {
  return local(Array.from(window._hsq || []));
}

// Does what hubtrail.js does when it starts: replays the queue, then owns push.
function startTracker(window, pushes = []) {
  const queue = window._hsq || [];
  pushes.push(...Array.from(queue));
  window._hsq = { push: (...items) => pushes.push(...items) };
  window.__hubtrail = { version: "1.0" };
  return pushes;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function identify(userId, traits) {
  return { type: "identify", userId, anonymousId: "anon-1", traits, context: {} };
}

function track(name, properties = {}) {
  return { type: "track", event: name, properties, anonymousId: "anon-1", context: {} };
}

function state(promise) {
  const seen = { value: "pending" };
  promise.then(() => { seen.value = "resolved"; }, () => { seen.value = "rejected"; });
  return seen;
}

describe("the factory", () => {
  test("returns one destination plugin with the fields analytics-next checks", () => {
    const { factory } = loadPage();
    assert.equal(typeof factory, "function");
    const plugins = factory({ portalId: 62515 });
    assert.ok(Array.isArray(plugins));
    assert.equal(plugins.length, 1);
    const [plugin] = plugins;
    assert.equal(plugin.name, "HubSpot (hubtrail)");
    assert.equal(plugin.type, "destination");
    assert.equal(plugin.version, "1.0.0");
    assert.equal(factory.version, "1.0.0");
    for (const method of ["load", "isLoaded", "page", "identify", "track", "group", "alias",
      "screen"]) {
      assert.equal(typeof plugin[method], "function", method);
    }
    assert.equal(plugin.isLoaded(), false);
  });
});

describe("identify (Segment's I1-I10)", () => {
  const map = (userId, traits) => local(loadPage().factory.mapIdentify(identify(userId, traits)));

  test("I1: no email, no push", () => {
    assert.equal(map("id", {}), null);
  });

  test("I2: email only", () => {
    assert.deepEqual(map(undefined, { email: EMAIL }), ["identify", { email: EMAIL }]);
  });

  test("I3: the userId becomes id", () => {
    assert.deepEqual(map("id", { email: EMAIL }), ["identify", { id: "id", email: EMAIL }]);
  });

  test("I4: a Date becomes ms since the epoch", () => {
    const date = new Date("2024-05-06T07:08:09.010Z");
    assert.deepEqual(map(undefined, { email: EMAIL, date }),
      ["identify", { email: EMAIL, date: date.getTime() }]);
  });

  test("I5: firstName and lastName become firstname and lastname", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, firstName: "First", lastName: "Last" }),
      ["identify", { email: EMAIL, firstname: "First", lastname: "Last" }]);
  });

  test("I6: keys are lowercased", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, yOlO: "yolo" }),
      ["identify", { email: EMAIL, yolo: "yolo" }]);
  });

  test("I7: spaces and control whitespace in keys become underscores", () => {
    const key = "gogurts are\tlife\rand\vgood\ntoday\fhorray";
    assert.deepEqual(map(undefined, { email: EMAIL, [key]: "yolo" }),
      ["identify", { email: EMAIL, gogurts_are_life_and_good_today_horray: "yolo" }]);
  });

  test("I8: dots in keys become underscores", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, "gogurts.are.life": "yolo" }),
      ["identify", { email: EMAIL, gogurts_are_life: "yolo" }]);
  });

  test("I9: company is company.name", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, company: { name: "Example Company" } }),
      ["identify", { email: EMAIL, company: "Example Company" }]);
  });

  test("I10: strings are trimmed", () => {
    const traits = { email: "   name@example.com    ", company: { name: "    Example Company     " } };
    assert.deepEqual(map(undefined, traits), ["identify", { email: EMAIL, company: "Example Company" }]);
  });
});

describe("identify, beyond Segment's tests", () => {
  const map = (userId, traits) => local(loadPage().factory.mapIdentify(identify(userId, traits)));

  test("name alone is split into firstname and lastname", () => {
    assert.deepEqual(map("u1", { email: EMAIL, name: "  Ada King Lovelace " }), ["identify", {
      email: EMAIL, id: "u1", name: "Ada King Lovelace", firstname: "Ada", lastname: "King Lovelace",
    }]);
  });

  test("a one-word name gives a firstname and no lastname", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, name: "Ada" }),
      ["identify", { email: EMAIL, name: "Ada", firstname: "Ada" }]);
  });

  test("firstName and lastName win over name", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, name: "A B", firstName: "Ada", lastName: "L" }),
      ["identify", { email: EMAIL, name: "A B", firstname: "Ada", lastname: "L" }]);
  });

  test("first_name and LastName count as firstName and lastName; snake_case keys survive", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, first_name: "Ada", LastName: "Lovelace" }),
      ["identify", { email: EMAIL, first_name: "Ada", firstname: "Ada", lastname: "Lovelace" }]);
  });

  test("a userId that looks like an email passes the gate, as id only", () => {
    assert.deepEqual(map("ada@example.com", { plan: "pro" }),
      ["identify", { plan: "pro", id: "ada@example.com" }]);
    assert.equal(map("ada", { plan: "pro" }), null);
    assert.equal(map("ada@example", { plan: "pro" }), null);
  });

  test("the email key is found whatever its case", () => {
    assert.deepEqual(map(undefined, { Email: EMAIL }), ["identify", { email: EMAIL }]);
    assert.deepEqual(map(undefined, { EMAIL }), ["identify", { email: EMAIL }]);
  });

  test("an email that is only whitespace and zero-width characters is no email", () => {
    assert.equal(map("id", { email: " \u200B\uFEFF " }), null);
  });

  test("zero-width characters are trimmed from strings at any depth", () => {
    const traits = { email: `\u200B${EMAIL}\uFEFF`, tags: [" a\u200C", { b: "\u200Dc " }] };
    assert.deepEqual(map(undefined, traits),
      ["identify", { email: EMAIL, tags: ["a", { b: "c" }] }]);
  });

  test("ISO date strings and Dates become ms, in nested objects and arrays too", () => {
    const traits = {
      email: EMAIL,
      createdAt: "2020-01-01T00:00:00Z",
      birthday: "1990-05-17",
      lastSeen: "2020-01-01 12:30:15.5+02:00",
      nested: { at: new Date(86400000), list: ["2020-01-01T00:00:00.123Z", "not a date"] },
      notADay: "2021-02-30",
      version: "2020-01-01-beta",
    };
    assert.deepEqual(map(undefined, traits), ["identify", {
      email: EMAIL,
      createdat: Date.UTC(2020, 0, 1),
      birthday: Date.UTC(1990, 4, 17),
      lastseen: Date.UTC(2020, 0, 1, 10, 30, 15, 500),
      nested: { at: 86400000, list: [Date.UTC(2020, 0, 1, 0, 0, 0, 123), "not a date"] },
      notaday: "2021-02-30",
      version: "2020-01-01-beta",
    }]);
  });

  test("only top-level keys are formatted, run for run, and nothing else in them changes", () => {
    const traits = { email: EMAIL, "A  B": 1, "x-y/z": 2, Address: { "Street Name": "Main" } };
    assert.deepEqual(map(undefined, traits), ["identify", {
      email: EMAIL, a__b: 1, "x-y/z": 2, address: { "Street Name": "Main" },
    }]);
  });

  test("a company that is a plain string stays", () => {
    assert.deepEqual(map(undefined, { email: EMAIL, company: "Acme" }),
      ["identify", { email: EMAIL, company: "Acme" }]);
  });

  test("the event passed in is not changed", () => {
    const event = identify(" u1 ", { email: ` ${EMAIL}`, firstName: "Ada" });
    loadPage().factory.mapIdentify(event);
    assert.deepEqual(event.traits, { email: ` ${EMAIL}`, firstName: "Ada" });
    assert.equal(event.userId, " u1 ");
  });

  test("the plugin pushes the item onto _hsq, and nothing without an email", () => {
    const { plugin, window } = makePlugin();
    const ctx = { event: identify("u1", { email: EMAIL, firstName: "Ada" }) };
    assert.equal(plugin.identify(ctx), ctx);
    plugin.identify({ event: identify("u2", { plan: "pro" }) });
    assert.deepEqual(queued(window),
      [["identify", { email: EMAIL, id: "u1", firstname: "Ada" }]]);
  });
});

describe("track (Segment's T1-T7)", () => {
  const map = (name, properties) => local(loadPage().factory.mapTrack(track(name, properties)));

  test("T1: an event without properties", () => {
    assert.deepEqual(map("event"), ["trackEvent", "event", { id: "event" }]);
  });

  test("T2: properties go through", () => {
    assert.deepEqual(map("event", { property: true }),
      ["trackEvent", "event", { property: true, id: "event" }]);
  });

  test("T3: a Date becomes ms since the epoch", () => {
    const date = new Date("2024-05-06T07:08:09.010Z");
    assert.deepEqual(map("event", { date }), ["trackEvent", "event", { date: date.getTime(), id: "event" }]);
  });

  test("T4: empty properties", () => {
    assert.deepEqual(map("Viewed Product", {}),
      ["trackEvent", "Viewed Product", { id: "Viewed Product" }]);
  });

  test("T5: properties.id becomes _id", () => {
    assert.deepEqual(map("Viewed Product", { id: "12345" }),
      ["trackEvent", "Viewed Product", { id: "Viewed Product", _id: "12345" }]);
  });

  test("T6: revenue becomes value", () => {
    assert.deepEqual(map("Did Something Valuable", { id: "12345", revenue: 13 }), ["trackEvent",
      "Did Something Valuable", { id: "Did Something Valuable", _id: "12345", value: 13 }]);
  });

  test("T7: the event name and properties are trimmed", () => {
    assert.deepEqual(map("   Did Something Valuable  ", { id: "   12345 ", revenue: 13 }), ["trackEvent",
      "Did Something Valuable", { id: "Did Something Valuable", _id: "12345", value: 13 }]);
  });
});

describe("track, beyond Segment's tests", () => {
  const map = (name, properties) => local(loadPage().factory.mapTrack(track(name, properties)));

  test("ISO date strings become ms, nested too; property keys keep their case", () => {
    assert.deepEqual(map("Signed Up", {
      When: "2020-01-01T00:00:00Z",
      trial: { ends: "2020-02-01", days: ["2020-01-02T10:00:00-05:00"] },
    }), ["trackEvent", "Signed Up", {
      When: Date.UTC(2020, 0, 1),
      trial: { ends: Date.UTC(2020, 1, 1), days: [Date.UTC(2020, 0, 2, 15)] },
      id: "Signed Up",
    }]);
  });

  test("a revenue string such as \"$13\" becomes the number value", () => {
    assert.deepEqual(map("Bought", { revenue: "$13" }), ["trackEvent", "Bought", { value: 13, id: "Bought" }]);
    assert.deepEqual(map("Bought", { revenue: "$1,000.50" }),
      ["trackEvent", "Bought", { value: 1, id: "Bought" }]);
  });

  test("a revenue of 0, or one that is no number, stays revenue", () => {
    assert.deepEqual(map("Bought", { revenue: 0 }), ["trackEvent", "Bought", { revenue: 0, id: "Bought" }]);
    assert.deepEqual(map("Bought", { revenue: "abc" }),
      ["trackEvent", "Bought", { revenue: "abc", id: "Bought" }]);
    assert.deepEqual(map("Bought", { revenue: true }),
      ["trackEvent", "Bought", { revenue: true, id: "Bought" }]);
  });

  test("Order Completed without revenue takes its total as value and keeps total", () => {
    assert.deepEqual(map("Order Completed", { total: 50 }),
      ["trackEvent", "Order Completed", { total: 50, value: 50, id: "Order Completed" }]);
    assert.deepEqual(map("completed_order", { total: "$20" }),
      ["trackEvent", "completed_order", { total: "$20", value: 20, id: "completed_order" }]);
    assert.deepEqual(map("Order Completed", { revenue: 0, total: 50 }),
      ["trackEvent", "Order Completed", { total: 50, value: 50, id: "Order Completed" }]);
    assert.deepEqual(map("Order Completed", { revenue: 30, total: 50 }),
      ["trackEvent", "Order Completed", { total: 50, value: 30, id: "Order Completed" }]);
  });

  test("other events do not fall back to total", () => {
    assert.deepEqual(map("Cart Viewed", { total: 50 }),
      ["trackEvent", "Cart Viewed", { total: 50, id: "Cart Viewed" }]);
  });

  test("revenue overwrites a value already there", () => {
    assert.deepEqual(map("Bought", { value: 5, revenue: 13 }),
      ["trackEvent", "Bought", { value: 13, id: "Bought" }]);
    assert.deepEqual(map("Bought", { value: 5 }), ["trackEvent", "Bought", { value: 5, id: "Bought" }]);
  });

  test("no event name, no item", () => {
    assert.equal(map("   ", {}), null);
    assert.equal(map(undefined, {}), null);
  });

  test("the plugin pushes the item onto _hsq", () => {
    const { plugin, window } = makePlugin();
    const ctx = { event: track("Viewed Product", { id: "12345" }) };
    assert.equal(plugin.track(ctx), ctx);
    assert.deepEqual(queued(window),
      [["trackEvent", "Viewed Product", { _id: "12345", id: "Viewed Product" }]]);
  });
});

describe("page, group, alias, screen", () => {
  test("P1: the first page() is swallowed; later ones push trackPageView", () => {
    const { plugin, window } = makePlugin();
    const page = () => ({ event: { type: "page", name: "Home", properties: { path: "/" } } });
    const ctx = page();
    assert.equal(plugin.page(ctx), ctx);
    assert.deepEqual(queued(window), []);
    plugin.page(page());
    plugin.page(page());
    assert.deepEqual(queued(window), [["trackPageView"], ["trackPageView"]]);
  });

  test("pushes go to the live tracker once it has taken _hsq over", () => {
    const { plugin, window } = makePlugin();
    plugin.page({ event: { type: "page" } });
    const pushes = startTracker(window);
    plugin.page({ event: { type: "page" } });
    plugin.identify({ event: identify(undefined, { email: EMAIL }) });
    assert.deepEqual(local(pushes), [["trackPageView"], ["identify", { email: EMAIL }]]);
  });

  test("group pushes nothing and notes why once per page", () => {
    const page = loadPage();
    const { plugin, window, logs } = makePlugin(undefined, page);
    const [other] = page.factory({ portalId: 62515 });
    const ctx = { event: { type: "group", groupId: "g1", traits: { name: "Acme" } } };
    assert.equal(plugin.group(ctx), ctx);
    plugin.group(ctx);
    other.group(ctx);
    assert.deepEqual(queued(window), []);
    assert.equal(logs.info.length, 1);
    assert.match(logs.info[0], /group/);
    assert.match(logs.info[0], /\/v1/);
    assert.deepEqual(logs.warn, []);
  });

  test("alias and screen push nothing", () => {
    const { plugin, window, logs } = makePlugin();
    const alias = { event: { type: "alias", userId: "new", previousId: "old" } };
    const screen = { event: { type: "screen", name: "Home" } };
    assert.equal(plugin.alias(alias), alias);
    assert.equal(plugin.screen(screen), screen);
    assert.deepEqual(queued(window), []);
    assert.deepEqual(logs.warn, []);
  });
});

describe("failures stay inside the plugin", () => {
  test("a context whose event getter throws is handed back", () => {
    const { plugin, window, logs } = makePlugin();
    const ctx = {};
    Object.defineProperty(ctx, "event", { get() { throw new Error("broken event"); } });
    assert.equal(plugin.identify(ctx), ctx);
    assert.equal(plugin.track(ctx), ctx);
    assert.deepEqual(queued(window), []);
    assert.equal(logs.warn.length, 2);
    assert.match(logs.warn[0], /^hubtrail: identify failed.*broken event/);
    assert.match(logs.warn[1], /^hubtrail: track failed.*broken event/);
  });

  test("a tracker whose push throws does not break the caller", () => {
    const { plugin, window, logs } = makePlugin();
    window._hsq = { push() { throw new Error("tracker broke"); } };
    const ctx = { event: track("event") };
    assert.equal(plugin.track(ctx), ctx);
    plugin.page(ctx);
    assert.equal(plugin.page(ctx), ctx);
    assert.equal(logs.warn.length, 2);
    assert.match(logs.warn[0], /^hubtrail: track failed.*tracker broke/);
    assert.match(logs.warn[1], /^hubtrail: page failed.*tracker broke/);
  });

  test("a missing context is handed back too", () => {
    const { plugin, logs } = makePlugin();
    assert.equal(plugin.identify(undefined), undefined);
    assert.equal(logs.warn.length, 1);
  });

  test("track without an event name pushes nothing and says so", () => {
    const { plugin, window, logs } = makePlugin();
    plugin.track({ event: { type: "track", properties: {} } });
    assert.deepEqual(queued(window), []);
    assert.deepEqual(logs.warn, ["hubtrail: track without an event name: nothing was sent"]);
  });
});

describe("load", () => {
  test("inserts hubtrail.js from the plugin's own origin and resolves once _hsq is live", async () => {
    const { plugin, window, inserted } = makePlugin({ portalId: 62515, loadTimeoutMs: 2000 });
    const ctx = { event: { type: "page" } };
    const loading = plugin.load(ctx, {});
    const seen = state(loading);
    assert.deepEqual(inserted.map(({ tagName, async, id, src }) => ({ tagName, async, id, src })), [
      { tagName: "SCRIPT", async: true, id: "hs-analytics", src: "http://127.0.0.1:8080/js/62515.js" },
    ]);
    assert.ok(Array.isArray(window._hsq));
    await sleep(120);
    assert.equal(seen.value, "pending");
    assert.equal(plugin.isLoaded(), false);
    startTracker(window);
    assert.equal(await loading, ctx);
    assert.equal(plugin.isLoaded(), true);
  });

  test("scriptBase overrides the plugin's origin", async () => {
    const { plugin, window, inserted } = makePlugin({
      portalId: "7", scriptBase: "https://track.example.com/", loadTimeoutMs: 2000,
    });
    const loading = plugin.load({}, {});
    assert.deepEqual(inserted.map((script) => script.src), ["https://track.example.com/js/7.js"]);
    startTracker(window);
    await loading;
  });

  test("rejects after loadTimeoutMs when nothing takes _hsq over", async () => {
    const { plugin, inserted } = makePlugin({ portalId: 62515, loadTimeoutMs: 150 });
    const started = Date.now();
    await assert.rejects(plugin.load({}, {}), (error) => {
      assert.match(error.message, /http:\/\/127\.0\.0\.1:8080\/js\/62515\.js did not start/);
      assert.match(error.message, /150 ms/);
      return true;
    });
    assert.ok(Date.now() - started >= 140);
    assert.equal(inserted.length, 1);
    assert.equal(plugin.isLoaded(), false);
  });

  test("rejects at once when the script fails to load", async () => {
    const { plugin, inserted } = makePlugin({ portalId: 62515, loadTimeoutMs: 5000 });
    const started = Date.now();
    const loading = plugin.load({}, {});
    inserted[0].onerror({ type: "error" });
    await assert.rejects(loading, /could not load http:\/\/127\.0\.0\.1:8080\/js\/62515\.js/);
    assert.ok(Date.now() - started < 1000);
  });

  test("does not insert hubtrail.js again when the site already includes it", async () => {
    const { plugin, window, inserted } = makePlugin({ portalId: 62515, loadTimeoutMs: 500 });
    const pushes = startTracker(window);
    const ctx = {};
    assert.equal(await plugin.load(ctx, {}), ctx);
    assert.deepEqual(inserted, []);
    assert.equal(plugin.isLoaded(), true);
    plugin.page({});
    plugin.page({});
    assert.deepEqual(local(pushes), [["trackPageView"]]);
  });

  test("waits for a hubtrail.js the site includes that has not started yet", async () => {
    const { plugin, window, inserted } = makePlugin({ portalId: 62515, loadTimeoutMs: 2000 });
    window.__hubtrail = { version: "1.0" };
    const loading = plugin.load({}, {});
    setTimeout(() => startTracker(window), 80);
    await loading;
    assert.deepEqual(inserted, []);
  });

  test("with loadFormsSdk, loads the forms SDK before hubtrail.js", async () => {
    const page = loadPage({
      onInsert(script, window) {
        if (script.src.endsWith("/forms/embed/v2.js")) {
          setTimeout(() => { window.hbspt = { forms: { create() {} } }; }, 60);
        } else {
          setTimeout(() => startTracker(window), 20);
        }
      },
    });
    const { plugin, inserted, logs } = makePlugin(
      { portalId: 62515, loadFormsSdk: true, loadTimeoutMs: 2000 }, page);
    const loading = plugin.load({}, {});
    assert.deepEqual(inserted.map((script) => script.src), ["http://127.0.0.1:8080/forms/embed/v2.js"]);
    await loading;
    assert.deepEqual(inserted.map((script) => script.src), [
      "http://127.0.0.1:8080/forms/embed/v2.js",
      "http://127.0.0.1:8080/js/62515.js",
    ]);
    assert.equal(inserted[1].id, "hs-analytics");
    assert.deepEqual(logs.warn, []);
  });

  test("a forms SDK that fails to load is noted once and load goes on", async () => {
    const page = loadPage({
      onInsert(script, window) {
        if (script.src.endsWith("/forms/embed/v2.js")) {
          setTimeout(() => script.onerror({ type: "error" }), 10);
        } else {
          setTimeout(() => startTracker(window), 10);
        }
      },
    });
    const { plugin, inserted, logs } = makePlugin(
      { portalId: 62515, loadFormsSdk: true, loadTimeoutMs: 5000 }, page);
    const started = Date.now();
    await plugin.load({}, {});
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(inserted.map((script) => script.src), [
      "http://127.0.0.1:8080/forms/embed/v2.js",
      "http://127.0.0.1:8080/js/62515.js",
    ]);
    assert.equal(logs.warn.length, 1);
    assert.match(logs.warn[0],
      /forms SDK http:\/\/127\.0\.0\.1:8080\/forms\/embed\/v2\.js is not available \(could not load/);
  });

  test("a forms SDK that never defines hbspt.forms is noted after the timeout", async () => {
    const page = loadPage({
      onInsert(script, window) {
        if (!script.src.endsWith("/forms/embed/v2.js")) {
          setTimeout(() => startTracker(window), 10);
        }
      },
    });
    const { plugin, inserted, logs } = makePlugin(
      { portalId: 62515, loadFormsSdk: true, loadTimeoutMs: 150 }, page);
    await plugin.load({}, {});
    assert.equal(inserted.length, 2);
    assert.equal(logs.warn.length, 1);
    assert.match(logs.warn[0], /not ready after 150 ms/);
  });

  test("rejects clearly without a portalId", async () => {
    const { plugin, inserted } = makePlugin({ loadTimeoutMs: 100 });
    await assert.rejects(plugin.load({}, {}), /settings\.portalId must be the hub id/);
    assert.deepEqual(inserted, []);
  });

  test("rejects clearly when neither scriptBase nor its own URL is known", async () => {
    const { plugin, inserted } = makePlugin({ portalId: 1 }, loadPage({ currentScript: null }));
    await assert.rejects(plugin.load({}, {}), /set settings\.scriptBase/);
    assert.deepEqual(inserted, []);
  });
});
