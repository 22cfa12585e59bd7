"""A month of traffic on a small SaaS site, as the calls its Segment library would have sent.

`month_of_traffic` plays out the last 30 days of www.example-shop.com (an online store builder):
about 1,500 visitors with a weekly rhythm and a slow upward trend, arriving from search, social,
a newsletter, ads, referrals or directly; some sign up (identify, `Signed Up`, `group` for their
company), start trials, invite teammates and upgrade (with revenue), others download the gated
whitepaper. Everyone browses anonymously first, so contact timelines carry anonymous history. A
few calls hold the mistakes real integrations make (a mistyped email, a trait no property
matches, a group without a website, a stage that does not exist, revenue sent as "$79.00"), and
crawlers hit the tracking-code collector, so the debugger has notes to show.

Every call is a plain dict, exactly as it would arrive on the wire, stamped with when it was
sent. The randomness is seeded, so the same `now_ms` gives the same month.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubtrail.core.delivery import DAY_MS

SITE = "https://www.example-shop.com"
DAYS = 30
SEED = 20240501
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS

# (path, title, weight when browsing from page to page)
PAGES = [
    ("/", "Example Shop — the online store builder for independent brands", 20),
    ("/pricing", "Pricing | Example Shop", 4),
    ("/features", "Features | Example Shop", 10),
    ("/features/inventory", "Inventory sync across channels | Example Shop", 6),
    ("/features/analytics", "Sales analytics | Example Shop", 5),
    ("/integrations", "Integrations | Example Shop", 6),
    ("/customers", "Customer stories | Example Shop", 5),
    ("/blog", "Blog | Example Shop", 6),
    ("/blog/store-launch-checklist", "The 12-step store launch checklist | Example Shop Blog", 6),
    ("/blog/pricing-psychology", "Pricing psychology for small shops | Example Shop Blog", 4),
    ("/blog/holiday-season-playbook", "The holiday season playbook | Example Shop Blog", 3),
    ("/docs/getting-started", "Getting started | Example Shop Docs", 5),
    ("/whitepaper", "Whitepaper: The state of independent e-commerce | Example Shop", 5),
    ("/signup", "Start your free trial | Example Shop", 3),
    ("/about", "About us | Example Shop", 2),
    ("/contact-sales", "Talk to sales | Example Shop", 2),
]
TITLES = {path: title for path, title, _ in PAGES}
BLOG = ["/blog/store-launch-checklist", "/blog/pricing-psychology", "/blog/holiday-season-playbook"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a visit comes from: its referrer, its UTM campaign, and the pages it lands on."""

    weight: int
    referrer: str
    landings: Sequence[str]
    campaign: tuple[tuple[str, str], ...] = ()


SOURCES = [
    Source(24, "", ["/", "/", "/", "/pricing", "/docs/getting-started"]),
    Source(27, "https://www.google.com/", ["/", *BLOG, "/features", "/features/inventory"]),
    Source(5, "https://www.bing.com/", ["/", "/features", *BLOG]),
    Source(
        7,
        "https://www.google.com/",
        ["/", "/pricing"],
        (("source", "google"), ("medium", "cpc"), ("name", "brand-search")),
    ),
    Source(7, "https://t.co/", [*BLOG, "/"]),
    Source(7, "https://www.linkedin.com/", ["/customers", "/whitepaper", *BLOG]),
    Source(3, "https://www.producthunt.com/", ["/", "/pricing"]),
    Source(3, "https://www.g2.com/", ["/customers", "/pricing"]),
]
NEWSLETTER = Source(
    0,
    "",
    ["/blog/holiday-season-playbook", "/features/analytics", "/blog/pricing-psychology"],
    (("source", "newsletter"), ("medium", "email"), ("name", "monthly-product-update")),
)
NEWSLETTER_DAYS = (8, 22)  # the newsletter goes out on these days of the month
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.05, 1.0, 0.9, 0.45, 0.4)  # Monday … Sunday
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2)  # UTC

# (name, website, industry, employees, city, country)
COMPANIES = [
    ("Bluebird Ceramics", "bluebird-ceramics.com", "Consumer Goods", 14, "Portland", "US"),
    ("Northwind Outfitters", "northwind-outfitters.com", "Apparel", 48, "Denver", "US"),
    ("Juniper & Sage", "juniperandsage.com", "Cosmetics", 22, "Austin", "US"),
    ("Copperline Coffee Roasters", "copperlinecoffee.com", "Food & Beverages", 35, "Seattle", "US"),
    ("Harbor Lane Home", "harborlanehome.com", "Furniture", 60, "Boston", "US"),
    ("Little Fern Kids", "littlefernkids.com", "Retail", 9, "Toronto", "Canada"),
    ("Atlas Cycle Works", "atlascycleworks.com", "Sporting Goods", 27, "Amsterdam", "Netherlands"),
    ("Oak & Ember Candles", "oakandember.com", "Consumer Goods", 6, "Leeds", "United Kingdom"),
    ("Tidewater Surf Co.", "tidewatersurf.com", "Sporting Goods", 18, "San Diego", "US"),
    ("Meridian Tea House", "meridiantea.com", "Food & Beverages", 12, "London", "United Kingdom"),
    ("Foxglove Botanicals", "foxglovebotanicals.com", "Cosmetics", 31, "Dublin", "Ireland"),
    ("Ironbark Tools", "ironbarktools.com", "Hardware", 74, "Melbourne", "Australia"),
    ("Paper Crane Studio", "papercranestudio.com", "Arts & Crafts", 5, "Berlin", "Germany"),
    ("Summit Pet Supply", "summitpetsupply.com", "Pet Supplies", 41, "Calgary", "Canada"),
    ("Lumen Eyewear", "lumeneyewear.com", "Apparel", 56, "Copenhagen", "Denmark"),
    ("Greenhouse Grocer", "greenhousegrocer.com", "Grocery", 120, "Chicago", "US"),
    ("Velvet Fox Vintage", "velvetfoxvintage.com", "Apparel", 8, "New York", "US"),
    ("Brightside Books", "brightsidebooks.com", "Publishing", 16, "Edinburgh", "United Kingdom"),
    ("Kestrel Audio", "kestrelaudio.com", "Consumer Electronics", 38, "Stockholm", "Sweden"),
    ("Saltmarsh Skincare", "saltmarshskincare.com", "Cosmetics", 19, "Brighton", "United Kingdom"),
]
SHOPS = [
    "Maple & Moss",
    "Wild Honey Market",
    "The Button Jar",
    "Cedar Street Goods",
    "Nomad Leather",
    "Pebble & Pine",
    "Rosewood Prints",
    "Sunday Pottery",
    "Hollow Oak Woodworks",
    "Marigold Market",
]
FIRST_NAMES = (  # noqa: SIM905 (as list literals, the names would fill 80 lines)
    "Olivia Liam Emma Noah Amara Mateo Sofia Lucas Priya Ethan Chloe Kenji Hannah Omar Isla "
    "Diego Grace Yusuf Mia Jonas Freya Arjun Lena Samuel Zoe Tomas Aisha Felix Ruby Daniel "
    "Nora Hugo Leila Marcus Ingrid Kofi Elena Theo Maya Rafael"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Johnson Okafor Lindqvist Garcia Chen Müller Patel Rossi Nakamura Dubois Kowalski Hughes "
    "Fernandes Novak Haddad Jensen Murphy Silva Kim Schmidt Andersen Ibrahim Costa Walsh Ito "
    "Moreau Brennan Larsen Reyes Bianchi Sato Nguyen Fischer O'Neill Alvarez Dahl Mensah Byrne"
).split()
JOB_TITLES = [
    "Founder",
    "Co-founder",
    "CEO",
    "Head of E-commerce",
    "E-commerce Manager",
    "Marketing Manager",
    "Growth Lead",
    "Operations Manager",
    "Store Manager",
    "Customer Success Lead",
    "Web Developer",
    "Digital Marketing Specialist",
    "Merchandising Lead",
    "Finance Manager",
]
PERSONAL_DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com"]
CITIES = [
    ("Portland", "US"),
    ("Manchester", "United Kingdom"),
    ("Lyon", "France"),
    ("Vancouver", "Canada"),
    ("Utrecht", "Netherlands"),
    ("Brisbane", "Australia"),
]
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
]
# Crawlers on the collector, minutes before now: the debugger's first page shows one.
BOTS = [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "/", 7),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", BLOG[0], 52),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "/pricing", 190),
]
PLANS = {"starter": 29, "growth": 79, "scale": 199}  # per month; annual billing pays ten months
LIBRARY = {"name": "analytics.js", "version": "next-1.70.0"}


@dataclass(frozen=True, slots=True)
class Call:
    """One call as sent: a Segment message, or (`collector`) a tracking-code hit from a bot."""

    at_ms: int
    body: dict[str, Any]
    collector: bool = False
    user_agent: str = ""


@dataclass(slots=True)
class _Person:
    first: str
    last: str
    email: str
    title: str
    company: int | None  # an index into COMPANIES, or None for a one-person shop
    shop: str


@dataclass(slots=True)
class _Visitor:
    anonymous_id: str
    user_agent: str
    person: _Person | None = None
    user_id: str | None = None
    identified: bool = False
    downloaded: bool = False


@dataclass(slots=True)
class Month:
    """The calls, sorted by time, and what they amount to (for the line `serve` prints)."""

    calls: list[Call] = field(default_factory=list)
    visitors: int = 0
    page_views: int = 0
    events: int = 0
    contacts: int = 0
    companies: int = 0


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class _Simulation:
    def __init__(self, now_ms: int, hub_id: int, visitors: int) -> None:
        self.rng = random.Random(SEED)
        self.now_ms = now_ms
        self.hub_id = hub_id
        self.first_day_ms = (now_ms // DAY_MS - DAYS + 1) * DAY_MS
        self.visitor_count = visitors
        self.month = Month()
        self.seq = 0
        self.emails: set[str] = set()
        self.grouped: set[int] = set()
        self.mistakes = {"email": 2, "trait": 4, "website": 1, "stage": 1, "revenue": 1}

    # --- calls -------------------------------------------------------------------------------

    def _segment(self, at_ms: int, visitor: _Visitor, kind: str, **body: Any) -> bool:
        """Send a Segment call from the visitor's browser; False if its time has not come yet."""
        if at_ms > self.now_ms - MINUTE_MS:
            return False
        self.seq += 1
        ids: dict[str, Any] = {"anonymousId": visitor.anonymous_id}
        if visitor.user_id:
            ids["userId"] = visitor.user_id
        context = {"library": LIBRARY, "userAgent": visitor.user_agent, **body.pop("context", {})}
        message = {"messageId": f"demo-{self.seq:05d}", "timestamp": iso(at_ms), "type": kind}
        self.month.calls.append(Call(at_ms, {**message, **ids, **body, "context": context}))
        return True

    def page(self, at_ms: int, visitor: _Visitor, path: str, referrer: str, source: Source) -> None:
        properties = {"url": SITE + path, "path": path, "title": TITLES[path], "referrer": referrer}
        context: dict[str, Any] = {}
        if source.campaign and referrer == source.referrer:  # the landing page carries the UTMs
            context["campaign"] = dict(source.campaign)
            properties["search"] = "?" + "&".join(f"utm_{k}={v}" for k, v in source.campaign)
        if self._segment(at_ms, visitor, "page", properties=properties, context=context):
            self.month.page_views += 1

    def track(self, at_ms: int, visitor: _Visitor, event: str, **properties: Any) -> None:
        if self._segment(at_ms, visitor, "track", event=event, properties=properties):
            self.month.events += 1

    def identify(self, at_ms: int, visitor: _Visitor, **traits: Any) -> None:
        person = visitor.person
        assert person is not None
        base = {"email": person.email, "firstName": person.first, "lastName": person.last}
        if self._segment(at_ms, visitor, "identify", traits={**base, **traits}):
            if not visitor.identified:
                self.month.contacts += 1
            visitor.identified = True

    def group(self, at_ms: int, visitor: _Visitor, index: int) -> None:
        name, website, industry, employees, city, country = COMPANIES[index]
        traits: dict[str, Any] = {
            "name": name,
            "website": f"https://www.{website}",
            "industry": industry,
            "employees": employees,
            "address": {"city": city, "country": country},
        }
        if self._take("website"):  # an integration that forgot the website: no company key
            del traits["website"]
        sent = self._segment(at_ms, visitor, "group", groupId=f"org_{website}", traits=traits)
        if sent and "website" in traits and index not in self.grouped:
            self.grouped.add(index)
            self.month.companies += 1

    def _take(self, mistake: str) -> bool:
        if self.mistakes[mistake] and self.rng.random() < 0.5:
            self.mistakes[mistake] -= 1
            return True
        return False

    # --- people ------------------------------------------------------------------------------

    def person(self) -> _Person:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.randrange(len(COMPANIES)) if rng.random() < 0.55 else None
        local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
        domain = COMPANIES[company][1] if company is not None else rng.choice(PERSONAL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        shop = COMPANIES[company][0] if company is not None else rng.choice(SHOPS)
        return _Person(first, last, email, rng.choice(JOB_TITLES), company, shop)

    def contact_traits(self, person: _Person) -> dict[str, Any]:
        if person.company is not None:
            city, country = COMPANIES[person.company][4:6]
        else:
            city, country = self.rng.choice(CITIES)
        return {
            "title": person.title,
            "company": person.shop,
            "address": {"city": city, "country": country},
        }

    # --- the month ---------------------------------------------------------------------------

    def day_ms(self) -> int:
        weights = [
            WEEKDAY_WEIGHTS[
                datetime.fromtimestamp((self.first_day_ms + d * DAY_MS) / 1000, UTC).weekday()
            ]
            * (0.85 + 0.3 * d / (DAYS - 1))
            for d in range(DAYS)
        ]
        day = self.rng.choices(range(DAYS), weights)[0]
        return self.first_day_ms + day * DAY_MS

    def moment(self, day_ms: int) -> int:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        return day_ms + hour * HOUR_MS + self.rng.randrange(HOUR_MS)

    def source(self, at_ms: int, returning: bool) -> Source:
        day = (at_ms - self.first_day_ms) // DAY_MS
        share = 0.3 if day in NEWSLETTER_DAYS else 0.12 if day - 1 in NEWSLETTER_DAYS else 0
        if share and self.rng.random() < share:
            return NEWSLETTER
        if returning and self.rng.random() < 0.5:
            return SOURCES[0]  # returning visitors mostly type the address or use a bookmark
        return self.rng.choices(SOURCES, [s.weight for s in SOURCES])[0]

    def run(self) -> Month:
        for n in range(self.visitor_count):
            self.visitor(n)
        for user_agent, path, minutes_ago in BOTS:
            self.seq += 1
            hit = {"a": str(self.hub_id), "k": "pv", "pu": SITE + path, "t": TITLES[path]}
            hit["mid"] = f"{self.seq:032x}"
            at_ms = self.now_ms - minutes_ago * MINUTE_MS
            self.month.calls.append(Call(at_ms, hit, collector=True, user_agent=user_agent))
        self.month.calls.sort(key=lambda call: call.at_ms)
        self.month.visitors = self.visitor_count
        return self.month

    def visitor(self, n: int) -> None:
        rng = self.rng
        visitor = _Visitor(f"{rng.getrandbits(128):032x}", rng.choice(USER_AGENTS))
        signs_up = rng.random() < 0.15
        sessions = 2 + rng.randrange(5) if signs_up else 1 + int(rng.random() < 0.4)
        at_ms = self.moment(self.day_ms())
        signup_session = 0 if rng.random() < 0.35 else 1
        for index in range(sessions):
            signup = signs_up and index == min(signup_session, sessions - 1)
            self.session(at_ms, visitor, index > 0, signup)
            at_ms += int(rng.uniform(0.3, 5) * DAY_MS)

    def session(self, at_ms: int, visitor: _Visitor, returning: bool, signup: bool) -> None:
        rng = self.rng
        source = self.source(at_ms, returning)
        path = rng.choice(source.landings)
        views = 1 + min(7, int(rng.expovariate(0.55)))
        referrer = source.referrer
        for view in range(views):
            self.view(at_ms, visitor, path, referrer, source)
            if view == views - 1:
                break
            at_ms += rng.randrange(20_000, 180_000)
            referrer = SITE + path
            nexts = [(p, w) for p, _, w in PAGES if p != path and p != "/signup"]
            path = rng.choices([p for p, _ in nexts], [w for _, w in nexts])[0]
        if signup and visitor.user_id is None:
            for path in ("/pricing", "/signup"):
                at_ms += rng.randrange(30_000, 120_000)
                self.view(at_ms, visitor, path, SITE + "/", source)
            self.sign_up(at_ms + rng.randrange(40_000, 240_000), visitor)

    def view(self, at_ms: int, visitor: _Visitor, path: str, referrer: str, source: Source) -> None:
        self.page(at_ms, visitor, path, referrer, source)
        if path == "/pricing":
            self.track(
                at_ms + 1500,
                visitor,
                "Viewed Pricing",
                billing=self.rng.choice(["monthly", "annual"]),
            )
        elif path == "/whitepaper" and not visitor.downloaded and self.rng.random() < 0.55:
            visitor.downloaded = True
            at_ms += self.rng.randrange(20_000, 90_000)
            if not visitor.identified:
                visitor.person = visitor.person or self.person()
                self.identify(
                    at_ms,
                    visitor,
                    lifecycle_stage="subscriber",
                    **self.contact_traits(visitor.person),
                )
            self.track(
                at_ms + 800,
                visitor,
                "Downloaded Whitepaper",
                title="The state of independent e-commerce",
            )

    def sign_up(self, at_ms: int, visitor: _Visitor) -> None:
        rng = self.rng
        person = visitor.person = visitor.person or self.person()
        visitor.user_id = f"usr_{rng.getrandbits(40):010x}"
        traits = {**self.contact_traits(person), "lifecycle_stage": "lead"}
        if self._take("email"):  # a typo in the sign-up form, corrected a minute later
            typo = person.email.rsplit(".", 1)[0]
            self._segment(at_ms, visitor, "identify", traits={**traits, "email": typo})
            at_ms += rng.randrange(40_000, 120_000)
        self.identify(at_ms, visitor, **traits)
        self.track(
            at_ms + 2000, visitor, "Signed Up", plan="free", method=rng.choice(["email", "google"])
        )
        if person.company is not None:
            self.group(at_ms + 4000, visitor, person.company)
        if rng.random() < 0.7:
            self.trial(at_ms + rng.randrange(10 * MINUTE_MS, 3 * DAY_MS), visitor)

    def trial(self, at_ms: int, visitor: _Visitor) -> None:
        rng = self.rng
        plan = rng.choice(list(PLANS))
        self.track(at_ms, visitor, "Started Trial", plan=plan, trial_days=14)
        stage = "trial" if self._take("stage") else "marketingqualifiedlead"
        self.identify(at_ms + 1000, visitor, lifecycle_stage=stage)
        invites = rng.choice([0, 0, 0, 1, 1, 2, 3]) if rng.random() < 0.8 else 0
        for n in range(invites):
            at_ms += rng.randrange(HOUR_MS, DAY_MS)
            self.track(at_ms, visitor, "Invited Teammate", role=rng.choice(["staff", "admin"]))
            if n == 1:
                self.identify(at_ms + 1000, visitor, lifecycle_stage="salesqualifiedlead")
        if rng.random() < 0.32:
            at_ms += rng.randrange(2 * DAY_MS, 14 * DAY_MS)
            billing = rng.choice(["monthly", "monthly", "annual"])
            amount = PLANS[plan] * (10 if billing == "annual" else 1)
            revenue: object = f"${amount}.00" if self._take("revenue") else amount
            self.track(at_ms, visitor, "Upgraded Plan", plan=plan, billing=billing, revenue=revenue)
            traits: dict[str, Any] = {"lifecycle_stage": "customer"}
            if self._take("trait"):  # `plan` is no property of this portal: dropped, with a note
                traits["plan"] = plan
            self.identify(at_ms + 1000, visitor, **traits)


def month_of_traffic(now_ms: int, hub_id: int, *, visitors: int = 1500) -> Month:
    """The last 30 days (UTC) up to `now_ms` on the demo site, as calls sorted by time."""
    return _Simulation(now_ms, hub_id, visitors).run()
