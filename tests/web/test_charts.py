"""The per-day bar charts: pure SVG markup, every day a bar, every text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hubtrail.web.dashboard.charts import day_bars, day_label

DAY = 20_000  # 2024-10-04
SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[tuple[str, float]]:
    """(tooltip, height) of each day's bar, parsed as XML (so the markup is well formed)."""
    root = ET.fromstring(svg)
    found = []
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        bar = group.find(f"{SVG}rect[@class='bar']")
        assert title is not None
        assert bar is not None
        found.append((title.text or "", float(bar.attrib["height"])))
    return found


def test_day_labels_are_utc_dates() -> None:
    assert day_label(0) == "1970-01-01"
    assert day_label(DAY) == "2024-10-04"


def test_days_without_data_are_zero_bars() -> None:
    svg = day_bars({}, [DAY, DAY + 1, DAY + 2], label="Page views per day", unit="page views")
    assert bars(svg) == [
        ("2024-10-04: 0 page views", 0.0),
        ("2024-10-05: 0 page views", 0.0),
        ("2024-10-06: 0 page views", 0.0),
    ]
    root = ET.fromstring(svg)
    assert root.attrib["role"] == "img"
    assert (
        root.attrib["aria-label"] == "Page views per day, 2024-10-04 to 2024-10-06: no page views"
    )


def test_no_days_at_all_is_still_a_chart() -> None:
    root = ET.fromstring(day_bars({}, [], label="Events", unit="events"))
    assert root.attrib["aria-label"] == "Events: no days"
    assert root.find(f"{SVG}g") is None


def test_one_value_fills_the_plot_and_the_rest_stay_at_zero() -> None:
    days = list(range(DAY, DAY + 30))
    svg = day_bars({DAY + 10: 7}, days, label="Visitors per day", unit="visitors")
    heights = [height for _, height in bars(svg)]
    assert len(heights) == 30
    assert heights[10] > 0
    assert heights[:10] == [0.0] * 10
    assert heights[11:] == [0.0] * 19
    assert "2024-10-14: 7 visitors" in [tip for tip, _ in bars(svg)]
    root = ET.fromstring(svg)
    assert "7 visitors in total, most on 2024-10-14 (7)" in root.attrib["aria-label"]
    labels = [text.text for text in root.iter(f"{SVG}text")]
    assert labels == ["7", "Oct 4", "Oct 19", "Nov 2"]  # the max, then first, middle, last day


def test_bars_scale_to_the_highest_day_and_small_days_stay_visible() -> None:
    svg = day_bars(
        {DAY: 1000, DAY + 1: 1, DAY + 2: 500}, [DAY, DAY + 1, DAY + 2], label="x", unit="y"
    )
    (_, high), (_, low), (_, half) = bars(svg)
    assert low >= 1  # one page view among a thousand is still a visible bar
    assert abs(half - high / 2) < 1
    assert "1,000 y" in svg


def test_compact_charts_have_no_text() -> None:
    svg = day_bars({DAY: 2}, [DAY, DAY + 1], label="x", unit="y", height_px=36, axis=False)
    root = ET.fromstring(svg)
    assert list(root.iter(f"{SVG}text")) == []
    assert root.attrib["height"] == "36"


def test_labels_and_units_are_escaped() -> None:
    evil = '<img src=x onerror=alert(1)> "quoted"'
    svg = day_bars({DAY: 1}, [DAY], label=evil, unit="<script>alert(1)</script>")
    assert "<img" not in svg
    assert "<script>" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot;" in svg
    assert re.search(r"<title>2024-10-04: 1 &lt;script&gt;alert\(1\)&lt;/script&gt;</title>", svg)
    ET.fromstring(svg)  # still well formed
