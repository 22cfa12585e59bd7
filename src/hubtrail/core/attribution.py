"""Where a visit came from, in HubSpot's traffic-source terms (`hs_analytics_source` values).

Classified from the landing page URL (UTM parameters, ad click ids) and the referrer, in this order:
paid search, paid social, email, other campaigns, organic search, social, referrals, direct.
The two drill-down values say more: the engine or network, the campaign, or the referring site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

SEARCH_ENGINES = {
    "google": "google",
    "bing": "bing",
    "yahoo": "yahoo",
    "duckduckgo": "duckduckgo",
    "baidu": "baidu",
    "yandex": "yandex",
    "ecosia": "ecosia",
    "startpage": "startpage",
    "qwant": "qwant",
    "naver": "naver",
}
SOCIAL_NETWORKS = {
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "instagram.com": "instagram",
    "twitter.com": "twitter",
    "t.co": "twitter",
    "x.com": "twitter",
    "linkedin.com": "linkedin",
    "lnkd.in": "linkedin",
    "youtube.com": "youtube",
    "reddit.com": "reddit",
    "pinterest.com": "pinterest",
    "tiktok.com": "tiktok",
    "threads.net": "threads",
    "mastodon.social": "mastodon",
}
_PAID_MEDIA = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "cpm", "display", "paid-search"}
_PAID_SOCIAL_MEDIA = {
    "paid_social",
    "paidsocial",
    "paid-social",
    "social_paid",
    "cpc",
    "cpm",
    "paid",
}
_EMAIL_MEDIA = {"email", "e-mail", "newsletter", "mail"}
_SOCIAL_MEDIA = {"social", "social-network", "social_media", "sm"}


@dataclass(frozen=True, slots=True)
class TrafficSource:
    source: str
    data_1: str = ""
    data_2: str = ""


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def _network(host: str) -> str | None:
    for domain, name in SOCIAL_NETWORKS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return None


def _engine(host: str) -> str | None:
    labels = host.split(".")
    for label in labels[:-1]:
        if label in SEARCH_ENGINES:
            return SEARCH_ENGINES[label]
    return None


def _same_site(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def is_internal(page_url: str, referrer: str) -> bool:
    """A view reached from another page of the same site: a click within a visit, not a
    visit's landing (Segment sends no session, so this is how its views are told apart)."""
    return bool(referrer) and _same_site(_host(referrer), _host(page_url))


def classify(page_url: str, referrer: str) -> TrafficSource:
    """The source of a visit that landed on `page_url` from `referrer` (either may be empty)."""
    try:
        query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(page_url).query).items()}
    except ValueError:
        query = {}
    medium = query.get("utm_medium", "").lower()
    campaign = query.get("utm_campaign", "")
    utm_source = query.get("utm_source", "").lower()
    ref_host, page_host = _host(referrer), _host(page_url)
    network = _network(utm_source + ".com") or _network(ref_host)
    engine = _engine(utm_source + ".com") if utm_source else _engine(ref_host)
    if "gclid" in query or "msclkid" in query or (medium in _PAID_MEDIA and network is None):
        return TrafficSource("PAID_SEARCH", engine or utm_source or "unknown", campaign)
    if (medium in _PAID_SOCIAL_MEDIA and network) or ("fbclid" in query and medium):
        return TrafficSource("PAID_SOCIAL", network or utm_source, campaign)
    if medium in _EMAIL_MEDIA:
        return TrafficSource("EMAIL_MARKETING", campaign or utm_source, utm_source)
    if medium in _SOCIAL_MEDIA and network:
        return TrafficSource("SOCIAL_MEDIA", network, campaign)
    if campaign or utm_source or medium:
        return TrafficSource("OTHER_CAMPAIGNS", campaign or utm_source, medium)
    if ref_host and not _same_site(ref_host, page_host):
        if _engine(ref_host):
            return TrafficSource("ORGANIC_SEARCH", _engine(ref_host) or "", "")
        if network:
            return TrafficSource("SOCIAL_MEDIA", network, ref_host)
        return TrafficSource("REFERRALS", ref_host, referrer)
    return TrafficSource("DIRECT_TRAFFIC", page_host, "")
