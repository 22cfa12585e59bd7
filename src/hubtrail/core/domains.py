"""Company domains: how a website URL or a typed domain becomes the key companies are found by."""

from __future__ import annotations

from urllib.parse import urlsplit


def domain_from_website(website: str) -> str | None:
    """`https://www.Example.com/about` → `example.com`; None when there is no host in it."""
    text = website.strip()
    if not text:
        return None
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return normalize_domain(host) if host else None


def normalize_domain(domain: str) -> str | None:
    """A domain as companies are keyed: lowercase, no scheme, path, port, `www.` or trailing dot."""
    text = domain.strip().lower()
    if "/" in text or ":" in text:
        return domain_from_website(text)
    text = text.rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    if not text or "." not in text or " " in text:
        return None
    return text


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """Whether an Origin (or Referer) URL's host is one of `allowed` or a subdomain of one."""
    try:
        host = (urlsplit(origin).hostname or "").lower()
    except ValueError:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in allowed)
