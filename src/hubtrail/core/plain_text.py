"""Checks on raw text from clients that every wire format needs.

`str.isdigit()` is true for superscripts such as `¹` that `int()` refuses, and PostgreSQL cannot
store the NUL character at all (SQLite can), so ids are checked as ASCII digits and NULs are
taken out of ingested text before it reaches the store.
"""

from __future__ import annotations

import re
from typing import Any

_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str, max_chars: int = 18) -> bool:
    """True for a non-empty string of ASCII digits no longer than `max_chars` (fits in int64)."""
    return len(text) <= max_chars and _ASCII_DIGITS.fullmatch(text) is not None


def without_nul(value: Any) -> Any:
    """`value` with every NUL character removed from its strings (keys too), recursively."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
