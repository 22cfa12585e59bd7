/*
 * segment-hubspot.js: hubtrail's HubSpot destination for Segment's browser library,
 * @segment/analytics-next, in device mode.
 *
 * A site that sends its calls through analytics.js can send them to hubtrail as Segment's classic
 * HubSpot integration (analytics.js-integrations, hubspot v2.2.5) sends them to HubSpot: load the
 * tracking script (here hubtrail.js, from {base}/js/{portalId}.js) and push commands onto
 * window._hsq. The mapping is that integration's:
 *
 *   page      ['trackPageView'], except for the first page() of a page load: hubtrail.js tracks
 *             that view itself when it loads.
 *   identify  ['identify', traits], only when there is an email (traits.email, or a userId that
 *             looks like one). The traits get id = userId, firstname and lastname (from firstName /
 *             lastName, else from name), dates as ms since the epoch, top-level keys lowercased with
 *             spaces, dots and control whitespace made "_", and company = company.name.
 *   track     ['trackEvent', event, props]: the properties with dates as ms, id renamed _id,
 *             revenue renamed value (as a number; "Order Completed" falls back to total), and
 *             id = the event name.
 *   group, alias, screen   nothing: HubSpot's tracking code has no such calls.
 * Strings are trimmed (whitespace and zero-width characters) before any of this.
 *
 * analytics-next loads it as a remote plugin: it inserts <script src=".../segment-hubspot.js">,
 * then calls window.hubtrailHubSpot(settings) and registers the plugins it returns. Settings:
 *   portalId       the hub id (required)
 *   loadFormsSdk   also load {base}/forms/embed/v2.js first; optional: if it is missing, load goes on
 *   scriptBase     where browsers reach hubtrail, such as "https://track.example.com" (a path
 *                  prefix is kept); by default the origin this file was loaded from
 *   loadTimeoutMs  how long load waits for hubtrail.js to take over _hsq (default 10000)
 *
 * No plugin method ever throws into analytics.js or the page: a failure is reported with
 * console.warn and the event is skipped. For tests, the factory also carries the pure mapping
 * functions mapIdentify(event) and mapTrack(event), which return the _hsq item or null.
 * Plain ES5 plus Promise, no build step.
 */
(function (window, document) {
  "use strict";

  var NAME = "HubSpot (hubtrail)";
  var VERSION = "1.0.0";
  var POLL_MS = 50;
  var DEFAULT_LOAD_TIMEOUT_MS = 10000;

  var EDGE_SPACE = /^[\s\u200B-\u200D\uFEFF]+|[\s\u200B-\u200D\uFEFF]+$/g;
  // YYYY-MM-DD, optionally with a time (after "T" or a space) and then a zone
  var ISO_DATE = new RegExp("^(\\d{4})-(\\d{2})-(\\d{2})" +
    "(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d+))?)?(Z|([+-])(\\d{2})(?::?(\\d{2}))?)?)?$");
  var KEY_SEPARATORS = /[ .\n\v\t\f\r]/g;
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  // Segment's test for an "Order Completed" event, whose value is its total when it has no revenue
  var ORDER_COMPLETED = /^[ _]?completed[ _]?order[ _]?|^[ _]?order[ _]?completed[ _]?$/i;

  // This file's own URL, read now: document.currentScript is only set while a script runs.
  var ownSource = currentScriptSource();
  var groupNoted = false;  // once per page, however many plugins and group calls

  function currentScriptSource() {
    try {
      return (document.currentScript && document.currentScript.src) || "";
    } catch (ignored) {
      return "";
    }
  }

  function warn(message, error) {
    try {
      if (error === undefined) {
        window.console.warn("hubtrail: " + message);
      } else {
        window.console.warn("hubtrail: " + message, error);
      }
    } catch (ignored) { /* no console: nothing to do */ }
  }

  function note(message) {
    try {
      window.console.info("hubtrail: " + message);
    } catch (ignored) { /* no console */ }
  }

  /* ---------------------------------------------------------------- values */

  // By their tag, not instanceof: the event may come from another frame.
  function isPlainObject(value) {
    return Object.prototype.toString.call(value) === "[object Object]";
  }

  function isDate(value) {
    return Object.prototype.toString.call(value) === "[object Date]";
  }

  function eachOwn(object, fn) {
    for (var key in object) {
      if (Object.prototype.hasOwnProperty.call(object, key)) {
        fn(key, object[key]);
      }
    }
  }

  // A copy of `value` with every leaf inside objects and arrays replaced by leaf(value).
  function mapLeaves(value, leaf) {
    var copy;
    if (Array.isArray(value)) {
      copy = [];
      for (var i = 0; i < value.length; i++) {
        copy.push(mapLeaves(value[i], leaf));
      }
      return copy;
    }
    if (isPlainObject(value)) {
      copy = {};
      eachOwn(value, function (key, item) {
        copy[key] = mapLeaves(item, leaf);
      });
      return copy;
    }
    return leaf(value);
  }

  function trimLeaf(value) {
    return typeof value === "string" ? value.replace(EDGE_SPACE, "") : value;
  }

  // Segment's sanitizeValue: a copy with every string trimmed, however deep.
  function sanitize(value) {
    return mapLeaves(value, trimLeaf);
  }

  // Milliseconds since the epoch for an ISO-8601 date, else null. Without a zone it is UTC, as
  // in Segment's isodate; a day that does not exist (2021-02-30) is no date.
  function isoDateMs(text) {
    var parts = ISO_DATE.exec(text);
    if (!parts) {
      return null;
    }
    var year = +parts[1];
    var month = +parts[2] - 1;
    var day = +parts[3];
    var hours = +(parts[4] || 0);
    var minutes = +(parts[5] || 0);
    var seconds = +(parts[6] || 0);
    var millis = parts[7] ? +(parts[7] + "00").slice(0, 3) : 0;
    if (hours > 23 || minutes > 59 || seconds > 59) {
      return null;
    }
    var ms = Date.UTC(year, month, day, hours, minutes, seconds, millis);
    var check = new Date(ms);
    if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month ||
        check.getUTCDate() !== day) {
      return null;
    }
    if (parts[9]) {
      var offsetMinutes = +parts[10] * 60 + +(parts[11] || 0);
      ms -= (parts[9] === "+" ? 1 : -1) * offsetMinutes * 60 * 1000;
    }
    return ms;
  }

  function dateLeaf(value) {
    if (isDate(value)) {
      return value.getTime();
    }
    if (typeof value === "string") {
      var ms = isoDateMs(value);
      return ms === null ? value : ms;
    }
    return value;
  }

  // A copy with every Date, and every string that is an ISO date, as ms since the epoch.
  function convertDates(value) {
    return mapLeaves(value, dateLeaf);
  }

  function looseKey(key) {
    return String(key).replace(/[^a-zA-Z0-9]/g, "").toLowerCase();
  }

  // object[name], or failing that the first key that matches it ignoring case and anything but
  // letters and digits, as Segment reads traits: Email, EMAIL, e-mail, first_name, FirstName.
  function lookUp(object, name) {
    if (!isPlainObject(object)) {
      return undefined;
    }
    if (Object.prototype.hasOwnProperty.call(object, name) && object[name] != null) {
      return object[name];
    }
    var wanted = looseKey(name);
    var found;
    eachOwn(object, function (key, value) {
      if (found == null && looseKey(key) === wanted) {
        found = value;
      }
    });
    return found;
  }

  /* ---------------------------------------------------------------- identify */

  function firstName(traits) {
    var first = lookUp(traits, "firstName");
    if (typeof first === "string") {
      return trimLeaf(first);
    }
    var name = lookUp(traits, "name");
    return typeof name === "string" ? trimLeaf(name).split(" ")[0] : null;
  }

  function lastName(traits) {
    var last = lookUp(traits, "lastName");
    if (typeof last === "string") {
      return trimLeaf(last);
    }
    var name = lookUp(traits, "name");
    if (typeof name !== "string") {
      return null;
    }
    name = trimLeaf(name);
    var space = name.indexOf(" ");
    return space < 0 ? null : trimLeaf(name.slice(space + 1));
  }

  // Top-level keys only: lowercased, and each space, dot or control whitespace made "_".
  function formatKeys(traits) {
    var formatted = {};
    eachOwn(traits, function (key, value) {
      formatted[key.toLowerCase().replace(KEY_SEPARATORS, "_")] = value;
    });
    return formatted;
  }

  // The _hsq item for a Segment identify event, or null when it has no email.
  function mapIdentify(event) {
    event = event || {};
    var userId = sanitize(event.userId);
    var traits = sanitize(event.traits);
    if (!isPlainObject(traits)) {
      traits = {};
    }
    var userIdIsEmail = typeof userId === "string" && EMAIL.test(userId);
    if (!lookUp(traits, "email") && !userIdIsEmail) {
      return null;  // HubSpot identifies contacts by email: without one this says nothing
    }
    if (userId) {
      traits.id = userId;
    }
    var first = firstName(traits);
    var last = lastName(traits);
    if (first !== null) {
      traits.firstname = first;
      delete traits.firstName;  // the exact key only: a first_name stays, as in Segment
    }
    if (last !== null) {
      traits.lastname = last;
      delete traits.lastName;
    }
    var companyName = lookUp(lookUp(traits, "company"), "name");
    traits = formatKeys(convertDates(traits));
    if (companyName !== undefined) {
      traits.company = convertDates(companyName);  // HubSpot's company property is its name
    }
    return ["identify", traits];
  }

  /* ---------------------------------------------------------------- track */

  // Segment's currency rule: numbers as they are, "$13" as 13; nothing for anything falsy or
  // not a number.
  function currency(value) {
    if (!value) {
      return undefined;
    }
    if (typeof value === "number") {
      return value;
    }
    if (typeof value !== "string") {
      return undefined;
    }
    var number = parseFloat(value.replace(/\$/g, ""));
    return isNaN(number) ? undefined : number;
  }

  // The _hsq item for a Segment track event, or null when it has no event name.
  function mapTrack(event) {
    event = event || {};
    var name = sanitize(event.event);
    if (typeof name !== "string" || !name) {
      return null;
    }
    var props = sanitize(event.properties);
    if (!isPlainObject(props)) {
      props = {};
    }
    if (props.id != null) {
      props._id = props.id;  // id is taken by the event name
      delete props.id;
    }
    var revenue = props.revenue;
    if (!revenue && ORDER_COMPLETED.test(name)) {
      revenue = props.total;
    }
    var value = currency(revenue);
    if (value !== undefined) {
      props.value = value;
      delete props.revenue;
    }
    props = convertDates(props);
    props.id = name;
    return ["trackEvent", name, props];
  }

  /* ---------------------------------------------------------------- _hsq */

  // hubtrail.js (or HubSpot's script) replaces the queue's push with its own when it starts.
  function trackerIsLive() {
    var queue = window._hsq;
    return !!queue && typeof queue.push === "function" && queue.push !== Array.prototype.push;
  }

  function push(item) {
    window._hsq = window._hsq || [];
    window._hsq.push(item);
  }

  /* ---------------------------------------------------------------- loading */

  function originOf(url) {
    var origin = /^https?:\/\/[^\/?#]+/i.exec(url || "");
    return origin ? origin[0] : "";
  }

  function baseUrl(settings) {
    var base = settings.scriptBase ? String(settings.scriptBase) : originOf(ownSource);
    if (!base) {
      throw new Error("hubtrail: the plugin does not know its own URL; set settings.scriptBase " +
        "to the hubtrail server's origin, such as https://track.example.com");
    }
    return base.replace(/\/+$/, "");
  }

  function hubId(settings) {
    var portalId = settings.portalId == null ? "" : String(settings.portalId);
    if (!/^\d+$/.test(portalId)) {
      throw new Error("hubtrail: settings.portalId must be the hub id, such as 62515; got " +
        JSON.stringify(settings.portalId));
    }
    return portalId;
  }

  function timeoutOf(settings) {
    var ms = settings.loadTimeoutMs;
    return typeof ms === "number" && ms > 0 && isFinite(ms) ? ms : DEFAULT_LOAD_TIMEOUT_MS;
  }

  function insertScript(url, id) {
    var script = document.createElement("script");
    script.async = true;
    if (id) {
      script.id = id;
    }
    script.src = url;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  // Resolves once ready() holds (checked every POLL_MS). Rejects when `script`'s error event
  // fires, or when timeoutMs pass first.
  function waitUntil(ready, script, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var settled = false;
      var pollTimer = null;
      var deadline = null;

      function settle(error) {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(pollTimer);
        clearTimeout(deadline);
        if (error) {
          reject(error);
        } else {
          resolve();
        }
      }

      function poll() {
        var ok = false;
        try {
          ok = ready();
        } catch (ignored) { /* not yet */ }
        if (ok) {
          settle(null);
        } else if (!settled) {
          pollTimer = setTimeout(poll, POLL_MS);
        }
      }

      if (script) {
        script.onerror = function () {
          settle(new Error("could not load " + script.src));
        };
      }
      deadline = setTimeout(function () {
        settle(new Error("not ready after " + timeoutMs + " ms"));
      }, timeoutMs);
      poll();
    });
  }

  function formsReady() {
    return !!(window.hbspt && window.hbspt.forms);
  }

  // The forms SDK is optional (hubtrail may not serve forms): a failure is noted, never passed on.
  function loadForms(base, timeoutMs) {
    if (formsReady()) {
      return Promise.resolve();
    }
    var url = base + "/forms/embed/v2.js";
    return waitUntil(formsReady, insertScript(url, null), timeoutMs)["catch"](function (error) {
      warn("the forms SDK " + url + " is not available (" + error.message + "); " +
        "tracking goes on without forms");
    });
  }

  function loadTracker(base, portalId, timeoutMs) {
    var url = base + "/js/" + portalId + ".js";
    // window.__hubtrail: the site includes hubtrail.js itself, which owns _hsq (or soon will)
    var script = window.__hubtrail ? null : insertScript(url, "hs-analytics");
    return waitUntil(trackerIsLive, script, timeoutMs)["catch"](function (error) {
      throw new Error("hubtrail: the tracking script " + url + " did not start (" +
        error.message + "; window._hsq.push was never replaced)");
    });
  }

  // Starts at once (the first script is inserted before load returns) and never throws: a
  // problem with the settings is a rejected promise, as a script that does not load is.
  function load(settings) {
    try {
      window._hsq = window._hsq || [];
      var base = baseUrl(settings);
      var portalId = hubId(settings);
      var timeoutMs = timeoutOf(settings);
      if (!settings.loadFormsSdk) {
        return loadTracker(base, portalId, timeoutMs);
      }
      return loadForms(base, timeoutMs).then(function () {
        return loadTracker(base, portalId, timeoutMs);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /* ---------------------------------------------------------------- the plugin */

  // A plugin method: runs `fn`, and whatever happens hands the context back to analytics.js.
  function guarded(method, fn) {
    return function (ctx) {
      try {
        fn(ctx);
      } catch (error) {
        warn(method + " failed; the event was not sent to hubtrail:", error);
      }
      return ctx;
    };
  }

  function noteGroup() {
    if (!groupNoted) {
      groupNoted = true;
      note("group() has no HubSpot tracking-code equivalent, so nothing is pushed to _hsq; " +
        "hubtrail applies group calls from the copy analytics.js sends to its /v1 API");
    }
  }

  function nothing() { /* HubSpot's tracking code has no such call */ }

  function createPlugin(settings) {
    settings = isPlainObject(settings) ? settings : {};
    var pageCalls = 0;
    return {
      name: NAME,
      version: VERSION,
      type: "destination",
      load: function (ctx) {
        return load(settings).then(function () {
          return ctx;
        });
      },
      isLoaded: function () {
        try {
          return trackerIsLive();
        } catch (ignored) {
          return false;
        }
      },
      page: guarded("page", function () {
        pageCalls += 1;
        if (pageCalls > 1) {  // hubtrail.js tracked the first view itself when it loaded
          push(["trackPageView"]);
        }
      }),
      identify: guarded("identify", function (ctx) {
        var item = mapIdentify(ctx.event);
        if (item) {
          push(item);
        }
      }),
      track: guarded("track", function (ctx) {
        var item = mapTrack(ctx.event);
        if (item) {
          push(item);
        } else {
          warn("track without an event name: nothing was sent");
        }
      }),
      group: guarded("group", noteGroup),
      alias: guarded("alias", nothing),
      screen: guarded("screen", nothing)
    };
  }

  var factory = function hubtrailHubSpot(settings) {
    return [createPlugin(settings)];
  };
  factory.version = VERSION;
  factory.mapIdentify = mapIdentify;
  factory.mapTrack = mapTrack;
  window.hubtrailHubSpot = factory;
})(window, document);
