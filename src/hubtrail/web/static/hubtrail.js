/*
 * hubtrail.js: a drop-in replacement for HubSpot's tracking code (js.hs-scripts.com/{hubId}.js).
 *
 * Served at GET /js/{hubId}.js with the portal's settings baked in as CONFIG below:
 * {hubId, collectorUrl, cookieLifetimeDays, consentMode}. Plain ES5, no build step.
 *
 * The page talks to it as it talks to HubSpot's: it pushes commands onto window._hsq (and the
 * consent calls onto window._hsp, or _hsq). Commands pushed before the script loads run when it
 * loads, in order (the _hsp queue first, so consent is known before anything is sent); later
 * pushes run at once; a pushed function is called with the tracker (an object with one method
 * per command). One page view is tracked automatically on load, unless the queue already held a
 * trackPageView, which then takes its place.
 *
 * Commands: identify, trackPageView, setPath, trackEvent (legacy), trackCustomBehavioralEvent,
 * doNotTrack, addIdentityListener, setContentType, setCanonicalUrl, setPageId,
 * refreshPageHandlers (a no-op: hubtrail has no clicked-element handlers), setContentMetadata and
 * setTargetedContentMetadata (accepted and ignored, as HubSpot CMS pages push them), and the
 * consent calls addPrivacyConsentListener, revokeCookieConsent, setHubSpotConsent and showBanner.
 * hubtrail has no consent banner: showBanner only tells the listeners the current consent state
 * again and logs that a consent tool should call setHubSpotConsent. An unknown command is reported
 * with console.warn; no command ever throws into the page.
 *
 * Every page view or event is one hit, sent to the collector as the contract in
 * docs/tracking-protocol.md says: a JSON body through navigator.sendBeacon, else fetch, else a GIF
 * request with HubSpot's parameter names. `identify` data rides on the next hit, never alone.
 *
 * Cookies are HubSpot's (hubspotutk, __hstc, __hssc, __hssrc, __hs_do_not_track), on the site's
 * registrable domain. With consentMode "opt_in", no identifying cookie is read or written and hits
 * are anonymous (no vi/u/b, and identify data waits) until setHubSpotConsent({analytics: true}),
 * or until the page loads with the stored opt-in __hs_opt_out=no. setHubSpotConsent is not
 * stored, as in HubSpot: a consent tool calls it on every page. Consent declined or revoked on a
 * page makes the rest of that page anonymous in either mode.
 *
 * For debugging, window.__hubtrail is a read-only {version, hubId, hits}.
 */
(function (window, document) {
  "use strict";

  var CONFIG = __HUBTRAIL_CONFIG__;
  var VERSION = "1.0";

  var SESSION_MS = 30 * 60 * 1000;
  var DAY_MS = 24 * 60 * 60 * 1000;
  var UTK = /^[0-9a-f]{32}$/;
  var HSTC = /^\d+\.([0-9a-f]{32})\.(\d+)\.(\d+)\.(\d+)\.(\d+)$/;
  var HSSC = /^\d+\.(\d+)\.(\d+)$/;
  var TRACKING_COOKIES = ["hubspotutk", "__hstc", "__hssc", "__hssrc"];
  // What revokeCookieConsent removes: the tracking cookies and the banner's consent cookies.
  var CONSENT_COOKIES = TRACKING_COOKIES.concat([
    "__hs_opt_out", "__hs_initial_opt_in", "__hs_cookie_cat_pref"
  ]);

  function report(where, error) {
    try {
      window.console.error("hubtrail: " + where + " failed:", error);
    } catch (ignored) { /* no console: nothing to do */ }
  }

  function warn(message) {
    try {
      window.console.warn("hubtrail: " + message);
    } catch (ignored) { /* no console: nothing to do */ }
  }

  /* ---------------------------------------------------------------- helpers */

  function randomHex32() {
    var bytes = [];
    var crypto = window.crypto;
    var i;
    if (crypto && crypto.getRandomValues) {
      bytes = crypto.getRandomValues(new Uint8Array(16));
    } else {
      for (i = 0; i < 16; i++) {
        bytes.push(Math.floor(Math.random() * 256));
      }
    }
    var hex = "";
    for (i = 0; i < 16; i++) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return hex;
  }

  // HubSpot's domain hash is unpublished; any stable 32-bit number for the cookie domain will
  // do. This one is FNV-1a.
  function domainHash(domain) {
    var hash = 0x811c9dc5;
    for (var i = 0; i < domain.length; i++) {
      hash ^= domain.charCodeAt(i);
      hash = (hash + (hash << 1) + (hash << 4) + (hash << 7) + (hash << 8) + (hash << 24)) >>> 0;
    }
    return hash;
  }

  function eachOwn(object, fn) {
    for (var key in object) {
      if (Object.prototype.hasOwnProperty.call(object, key)) {
        fn(key, object[key]);
      }
    }
  }

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

  /* ---------------------------------------------------------------- cookies */

  // Set by init(), inside the try/catch at the bottom: nothing touches the page before it.
  var secure = false;
  var cookieDomain = "";  // empty: host-only cookies
  var hash = 0;
  var lifetimeDays = CONFIG.cookieLifetimeDays;

  // document.cookie throws in a sandboxed iframe: there the page is tracked without cookies.
  function allCookies() {
    try {
      return document.cookie || "";
    } catch (blocked) {
      return "";
    }
  }

  function readCookie(name) {
    var parts = allCookies().split(/;\s*/);
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].slice(0, name.length + 1) === name + "=") {
        return parts[i].slice(name.length + 1);
      }
    }
    return null;
  }

  // `days`: a lifetime; 0 for a session cookie; negative to delete.
  function writeCookie(name, value, days, domain) {
    var text = name + "=" + value + "; path=/";
    if (days) {
      text += "; expires=" + new Date(Date.now() + days * DAY_MS).toUTCString();
    }
    if (domain) {
      text += "; domain=" + domain;
    }
    try {
      document.cookie = text + "; SameSite=Lax" + (secure ? "; Secure" : "");
    } catch (blocked) { /* see allCookies */ }
  }

  // The registrable domain, found as HubSpot does: the shortest parent domain the browser lets a
  // test cookie be set on (so "co.uk" is refused and "example.co.uk" accepted). Empty (host-only
  // cookies) for IP addresses, localhost and single-label hosts.
  function findCookieDomain(hostname) {
    if (!hostname || hostname.indexOf(".") < 0 || hostname === "localhost" ||
        /^[\d.]+$/.test(hostname) || hostname.indexOf(":") >= 0) {
      return "";
    }
    var labels = hostname.split(".");
    var probe = "__hubtrail_probe";
    var token = randomHex32();
    for (var n = 2; n < labels.length; n++) {
      var candidate = labels.slice(-n).join(".");
      writeCookie(probe, token, 0, candidate);
      if (readCookie(probe) === token) {
        writeCookie(probe, "", -1, candidate);
        return candidate;
      }
    }
    return hostname;
  }

  function setCookie(name, value, days) {
    writeCookie(name, value, days, cookieDomain);
  }

  function deleteCookie(name) {
    writeCookie(name, "", -1, cookieDomain);
    if (cookieDomain) {
      writeCookie(name, "", -1, "");  // a host-only copy, if one was ever set
    }
  }

  /* ---------------------------------------------------------------- state */

  var loadOrigin = "";  // the page's origin at load: setPath is relative to it
  var state = null;
  var hsfp = "";  // from a cross-domain link: not a cookie, only handed to identity listeners
  var identityListeners = [];
  var consentListeners = [];

  function init() {
    var location = window.location;
    secure = location.protocol === "https:";
    loadOrigin = location.protocol + "//" + location.host;
    cookieDomain = findCookieDomain(location.hostname);
    hash = domainHash(cookieDomain || location.hostname);
    state = {
      path: null,            // from setPath; once set, every later view uses it
      canonicalUrl: null,    // from setCanonicalUrl
      contentType: null,
      pageId: null,
      identity: null,        // identify data waiting for the next hit with a visitor
      identified: null,      // {email, id} once sent: every later hit of this page repeats it
      createdVisitor: false, // hubspotutk was created by this page load (the hit's `nc`)
      views: 0,              // page views sent by this page load
      hits: 0,
      doNotTrack: readCookie("__hs_do_not_track") === "yes",
      consent: initialConsent(),
      // __hstc / __hssc / __hsfp from a cross-domain link, adopted once cookies are allowed
      linked: {
        hstc: queryParam("__hstc"),
        hssc: queryParam("__hssc"),
        hsfp: queryParam("__hsfp")
      }
    };
  }

  function initialConsent() {
    if (CONFIG.consentMode !== "opt_in") {
      return {analytics: true, advertisement: true, functionality: true};
    }
    var stored = readCookie("__hs_opt_out");
    if (stored === "no") {
      return {analytics: true, advertisement: true, functionality: true};
    }
    if (stored === "yes") {
      return {analytics: false, advertisement: false, functionality: false};
    }
    return null;  // not known yet: anonymous until setHubSpotConsent
  }

  function cookiesAllowed() {
    return !state.doNotTrack && !!state.consent && state.consent.analytics;
  }

  /* ---------------------------------------------------------------- visitor and session */

  function adoptLinkedCookies() {
    var linked = state.linked;
    state.linked = null;
    var hstc = linked.hstc && HSTC.exec(linked.hstc);
    if (hstc) {
      setCookie("hubspotutk", hstc[1], lifetimeDays);
      setCookie("__hstc", [hash].concat(hstc.slice(1)).join("."), lifetimeDays);
      var hssc = linked.hssc && HSSC.exec(linked.hssc);
      if (hssc) {
        setCookie("__hssc", [hash, hssc[1], hssc[2]].join("."), SESSION_MS / DAY_MS);
        setCookie("__hssrc", "1", 0);
      }
    }
    if (linked.hsfp && /^\d+$/.test(linked.hsfp)) {
      hsfp = linked.hsfp;
    }
  }

  // Reads and rewrites the cookies for one hit: creates the visitor, starts a new session when
  // __hssc has expired or __hssrc is gone (the browser was restarted), counts a page view.
  // Returns the values a hit carries as vi, u and b.
  function touchVisit(isPageView) {
    if (state.linked) {
      adoptLinkedCookies();
    }
    var now = Date.now();
    var utk = readCookie("hubspotutk");
    var hstc = HSTC.exec(readCookie("__hstc") || "");
    var hssc = HSSC.exec(readCookie("__hssc") || "");
    if (!utk || !UTK.test(utk)) {
      utk = hstc ? hstc[1] : randomHex32();
      state.createdVisitor = state.createdVisitor || !hstc;
    }
    // [first visit, previous visit, current visit, session number]: a first visit by default
    var visit = [now, now, now, 1];
    var views = 0;
    var sessionStart = now;
    if (hstc && hstc[1] === utk) {
      visit = [+hstc[2], +hstc[3], +hstc[4], +hstc[5]];
      if (hssc && readCookie("__hssrc")) {
        views = +hssc[1];
        sessionStart = +hssc[2];
      } else {
        visit = [visit[0], visit[2], now, visit[3] + 1];  // previous <- current, current <- now
      }
    }
    if (isPageView) {
      views += 1;
    }
    var values = {
      vi: utk,
      u: [hash, utk].concat(visit).join("."),
      b: [hash, views, sessionStart].join(".")
    };
    setCookie("hubspotutk", values.vi, lifetimeDays);
    setCookie("__hstc", values.u, lifetimeDays);
    setCookie("__hssc", values.b, SESSION_MS / DAY_MS);
    setCookie("__hssrc", "1", 0);
    notifyIdentityListeners();
    return values;
  }

  function identityValues() {
    var hstc = readCookie("__hstc");
    var hssc = readCookie("__hssc");
    return cookiesAllowed() && hstc && hssc ? [hstc, hssc, hsfp] : null;
  }

  function notifyIdentityListeners() {
    var values = identityValues();
    while (values && identityListeners.length) {
      callBack("identity listener", identityListeners.shift(), values);
    }
  }

  function callBack(what, fn, args) {
    try {
      fn.apply(null, args);
    } catch (error) {
      report(what, error);
    }
  }

  /* ---------------------------------------------------------------- consent */

  function consentAnswer() {
    var c = state.consent;
    return {
      allowed: c.analytics,
      categories: {
        analytics: c.analytics,
        advertisement: c.advertisement,
        functionality: c.functionality
      }
    };
  }

  function changeConsent(consent) {
    state.consent = consent;
    if (consent.analytics) {
      if (!state.doNotTrack) {
        touchVisit(false);  // cookies are set at once, so identity listeners can run
      }
    } else {
      for (var i = 0; i < TRACKING_COOKIES.length; i++) {
        deleteCookie(TRACKING_COOKIES[i]);
      }
    }
    for (var j = 0; j < consentListeners.length; j++) {
      callBack("privacy consent listener", consentListeners[j], [consentAnswer()]);
    }
  }

  /* ---------------------------------------------------------------- hits */

  function pageUrl() {
    var location = window.location;
    if (state.path !== null) {
      return loadOrigin + state.path;
    }
    var canonical = state.canonicalUrl;
    if (!canonical) {
      var link = document.querySelector && document.querySelector("link[rel='canonical']");
      canonical = link && link.href;
    }
    if (canonical) {
      // The canonical URL replaces the page's, but the page's query string (utm_* parameters)
      // is kept for attribution when the canonical URL has none.
      return /[?#]/.test(canonical) ? canonical : canonical + location.search;
    }
    return location.href;
  }

  function buildHit(kind, fields) {
    var screen = window.screen || {};
    var navigator = window.navigator || {};
    var hit = {
      a: CONFIG.hubId,
      k: kind,
      mid: randomHex32(),
      pu: pageUrl(),
      t: document.title || undefined,
      r: document.referrer || undefined,
      ct: state.contentType || undefined,
      pid: state.pageId || undefined,
      cts: Date.now(),
      sd: screen.width ? screen.width + "x" + screen.height : undefined,
      ln: (navigator.language || navigator.userLanguage || "").toLowerCase() || undefined
    };
    if (cookiesAllowed()) {
      var visit = touchVisit(kind === "pv");
      hit.vi = visit.vi;
      hit.u = visit.u;
      hit.b = visit.b;
      hit.nc = state.createdVisitor;
      // identify data goes out only with a visitor: an anonymous hit links no one. Hits are
      // beacons in flight together, so one sent after the identify may be answered first; each
      // later hit of this page carries the identifying keys again, so it is credited to the
      // same person whatever order the collector sees them in.
      if (state.identity) {
        hit.i = state.identity;
        state.identified = identifyingKeys(state.identity, state.identified);
        state.identity = null;
      } else if (state.identified) {
        hit.i = state.identified;
      }
    }
    eachOwn(fields, function (name, value) {
      hit[name] = value;
    });
    return hit;
  }

  // The keys that say who a hit is about: a new email names a new person (the earlier keys are
  // dropped), an id alone adds to the person already named.
  function identifyingKeys(identity, previous) {
    var keys = {};
    if (identity.email != null) {
      keys.email = identity.email;
    } else {
      eachOwn(previous || {}, function (name, value) {
        keys[name] = value;
      });
    }
    if (identity.id != null) {
      keys.id = identity.id;
    }
    return keys.email != null || keys.id != null ? keys : previous;
  }

  function track(kind, fields) {
    if (state.doNotTrack) {
      return;
    }
    var hit = buildHit(kind, fields || {});
    if (kind === "pv") {
      state.views += 1;
    }
    state.hits += 1;
    send(hit);
  }

  function send(hit) {
    var url = CONFIG.collectorUrl;
    var json = JSON.stringify(hit);
    var navigator = window.navigator;
    if (navigator.sendBeacon && window.Blob) {
      try {
        if (navigator.sendBeacon(url, new window.Blob([json], {type: "text/plain"}))) {
          return;
        }
      } catch (refused) { /* fall through to fetch */ }
    }
    if (window.fetch) {
      window.fetch(url, {
        method: "POST",
        body: json,
        keepalive: true,
        mode: "cors",
        credentials: "omit",
        headers: {"Content-Type": "text/plain"}
      })["catch"](function () { /* offline: the hit is lost, as HubSpot's would be */ });
      return;
    }
    sendGif(hit);
  }

  // The last resort: a GIF request with HubSpot's parameter names on the collector's origin.
  function sendGif(hit) {
    var origin = /^(https?:)?\/\/[^\/]+/.exec(CONFIG.collectorUrl);
    var path = hit.k === "pv" ? "/__ptq.gif" : "/__ptbe.gif";
    var params = [];
    var add = function (name, value) {
      if (value !== undefined && value !== null) {
        params.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
      }
    };
    eachOwn(hit, function (name, value) {
      if (name === "k" && value === "pv") {
        add("k", 1);
      } else if (name === "i") {
        var identity = [];
        eachOwn(value, function (key, field) {
          if (field != null) {
            identity.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(field)));
          }
        });
        add("i", identity.join("&"));  // a query string inside a parameter: encoded twice
      } else if (name === "p") {
        eachOwn(value, function (property, field) {
          add("_" + property, field);
        });
      } else {
        add(name, value);
      }
    });
    new window.Image().src = (origin ? origin[0] : "") + path + "?" + params.join("&");
  }

  /* ---------------------------------------------------------------- commands */

  function isObject(value) {
    return value !== null && typeof value === "object";
  }

  function consentFlags(value) {
    return {
      analytics: !!value.analytics,
      advertisement: !!value.advertisement,
      functionality: !!value.functionality
    };
  }

  function eventWithProperties(name, properties) {
    var rest = {};
    eachOwn(properties, function (key, value) {
      if (key !== "id" && key !== "value") {
        rest[key] = value;
      }
    });
    var id = properties.id != null && properties.id !== "" ? properties.id : name;
    return {id: id, value: properties.value, properties: rest};
  }

  var commands = {
    identify: function (properties) {
      if (!isObject(properties)) {
        return warn("identify needs an object such as {email: 'visitor@example.com'}");
      }
      var identity = state.identity = state.identity || {};
      eachOwn(properties, function (key, value) {
        identity[key] = value;
      });
    },
    trackPageView: function () {
      track("pv");
    },
    setPath: function (path) {
      if (typeof path !== "string") {
        return warn("setPath needs a path such as '/pricing'");
      }
      state.path = path.charAt(0) === "/" ? path : "/" + path;
    },
    // ['trackEvent', {id, value}] as HubSpot documents it, or ['trackEvent', name, properties]
    // as Segment's HubSpot integration pushes it (its other properties travel with the event).
    trackEvent: function (event, properties) {
      if (typeof event === "string" && isObject(properties)) {
        event = eventWithProperties(event, properties);
      }
      var id = isObject(event) ? (event.id != null ? event.id : event.name) : null;
      if (id == null || id === "") {
        return warn("trackEvent needs {id: 'event id or name', value: 10}");
      }
      var value = Number(event.value);
      track("le", {
        n: String(id),
        v: event.value != null && isFinite(value) ? value : undefined,
        p: event.properties
      });
    },
    trackCustomBehavioralEvent: function (event) {
      if (!isObject(event) || typeof event.name !== "string" || !event.name) {
        return warn("trackCustomBehavioralEvent needs {name: 'pe{hubId}_name', properties: {}}");
      }
      track("ev", {n: event.name, p: isObject(event.properties) ? event.properties : {}});
    },
    doNotTrack: function (options) {
      if (isObject(options) && options.track === true) {
        state.doNotTrack = false;
        deleteCookie("__hs_do_not_track");
      } else {
        state.doNotTrack = true;
        setCookie("__hs_do_not_track", "yes", lifetimeDays);
      }
    },
    addIdentityListener: function (callback) {
      if (typeof callback !== "function") {
        return warn("addIdentityListener needs a function(hstc, hssc, hsfp)");
      }
      identityListeners.push(callback);
      notifyIdentityListeners();
    },
    setContentType: function (contentType) {
      state.contentType = contentType ? String(contentType) : null;
    },
    setCanonicalUrl: function (url) {
      state.canonicalUrl = url ? String(url) : null;
    },
    setPageId: function (pageId) {
      state.pageId = pageId != null && pageId !== "" ? String(pageId) : null;
    },
    refreshPageHandlers: function () { /* hubtrail has no clicked-element handlers */ },
    setContentMetadata: function () { /* pushed by HubSpot CMS pages; nothing to do */ },
    setTargetedContentMetadata: function () { /* likewise */ },

    addPrivacyConsentListener: function (callback) {
      if (typeof callback !== "function") {
        return warn("addPrivacyConsentListener needs a function(consent)");
      }
      consentListeners.push(callback);
      if (state.consent) {
        callBack("privacy consent listener", callback, [consentAnswer()]);
      }
    },
    revokeCookieConsent: function () {
      for (var i = 0; i < CONSENT_COOKIES.length; i++) {
        deleteCookie(CONSENT_COOKIES[i]);
      }
      changeConsent({analytics: false, advertisement: false, functionality: false});
    },
    setHubSpotConsent: function (consent) {
      if (!isObject(consent)) {
        return warn("setHubSpotConsent needs {analytics, advertisement, functionality}");
      }
      changeConsent(consentFlags(consent));
    },
    showBanner: function () {
      try {
        window.console.info("hubtrail: there is no consent banner; a consent tool should call " +
          "_hsp.push(['setHubSpotConsent', {analytics: true, ...}])");
      } catch (ignored) { /* no console */ }
      if (state.consent) {
        for (var i = 0; i < consentListeners.length; i++) {
          callBack("privacy consent listener", consentListeners[i], [consentAnswer()]);
        }
      }
    }
  };

  // What a function pushed onto _hsq is called with: one method per command.
  var tracker = {};
  eachOwn(commands, function (name) {
    tracker[name] = function () {
      run([name].concat(Array.prototype.slice.call(arguments)));
    };
  });

  function run(item) {
    try {
      if (typeof item === "function") {
        item(tracker);
      } else if (item && typeof item.length === "number" &&
          Object.prototype.hasOwnProperty.call(commands, item[0])) {
        commands[item[0]].apply(null, Array.prototype.slice.call(item, 1));
      } else {
        warn("unknown command " + JSON.stringify(item && item.length ? item[0] : item));
      }
    } catch (error) {
      report("command " + (item && item[0] ? item[0] : "function"), error);
    }
  }

  // Runs what was pushed before the script loaded, in order (a command may push more: it runs
  // after the ones already waiting), then makes later pushes run at once.
  function takeOver(name) {
    var queue = window[name];
    if (!queue || typeof queue.push !== "function") {
      queue = window[name] = [];
    }
    while (queue.length) {
      run(Array.prototype.shift.call(queue));
    }
    queue.push = function () {
      for (var i = 0; i < arguments.length; i++) {
        run(arguments[i]);
      }
      return 0;
    };
  }

  /* ---------------------------------------------------------------- start */

  function start() {
    init();
    var debug = {};
    Object.defineProperty(debug, "version", {value: VERSION, enumerable: true});
    Object.defineProperty(debug, "hubId", {value: CONFIG.hubId, enumerable: true});
    Object.defineProperty(debug, "hits", {
      get: function () { return state.hits; },
      enumerable: true
    });
    Object.defineProperty(window, "__hubtrail", {value: debug});

    if (state.consent && !state.consent.analytics) {
      changeConsent(state.consent);  // a stored decline: make sure no tracking cookie is left
    }
    takeOver("_hsp");
    takeOver("_hsq");
    if (state.views === 0) {
      track("pv");
    }
  }

  try {
    if (window.__hubtrail) {
      return;  // included twice: the first copy already owns _hsq
    }
    start();
  } catch (error) {
    report("start", error);
  }
})(window, document);
