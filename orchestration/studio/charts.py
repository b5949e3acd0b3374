"""Plotly figure specs (data + layout, plain JSON) for the studio's charts: built here,
drawn in the browser by plotly.js (static/studio.js). Pure functions of data.py's rows."""

from __future__ import annotations

from typing import Any

BOUND_COLOUR = "#c62828"


def _text(value: Any) -> str:
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)


def segment_size_chart(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Members per run (line), entered and exited per run (bars); one category per run,
    so a single run or runs minutes apart read as well as daily ones."""
    x = [row["computed_at"].strftime("%Y-%m-%d %H:%M:%S") for row in sizes]
    return {
        "data": [
            {
                "x": x,
                "y": [row["member_count"] for row in sizes],
                "name": "members",
                "type": "scatter",
                "mode": "lines+markers",
            },
            {"x": x, "y": [r["entered_count"] for r in sizes], "name": "entered", "type": "bar"},
            {"x": x, "y": [r["exited_count"] for r in sizes], "name": "exited", "type": "bar"},
        ],
        "layout": {
            "height": 320,
            "margin": {"t": 20, "r": 10},
            "xaxis": {"title": {"text": "run"}, "type": "category"},
            "yaxis": {"title": {"text": "persons"}, "rangemode": "tozero"},
        },
    }


def cluster_size_chart(health: dict[str, Any]) -> dict[str, Any]:
    """Persons by identifiers held (identity_health's size buckets), with the largest
    person and the check's bound in the title line."""
    buckets = health["cluster_sizes"]
    largest = int(health["metrics"].get("largest_person_identifiers", {}).get("all", 0))
    bound = health["bounds"]["largest_person_identifiers"]
    return {
        "data": [
            {
                "x": [label.split(": ", 1)[-1] for label, _ in buckets],
                "y": [value for _, value in buckets],
                "type": "bar",
                "name": "persons",
            }
        ],
        "layout": {
            "height": 320,
            "margin": {"t": 40, "r": 10},
            "title": {"text": f"largest person: {largest} identifiers (check bound {bound})"},
            "xaxis": {"type": "category", "title": {"text": "identifiers in the person"}},
            "yaxis": {"title": {"text": "persons"}},
        },
    }


def identifiers_per_type_chart(health: dict[str, Any]) -> dict[str, Any]:
    """Most and average identifiers of each type one person holds, and the check's
    bound per type drawn as a red tick (customer_id: the identity limit)."""
    types = sorted(health["max_per_person"])
    bounds = health["bounds"]
    return {
        "data": [
            {
                "x": types,
                "y": [health["max_per_person"][kind] for kind in types],
                "type": "bar",
                "name": "most in one person",
            },
            {
                "x": types,
                "y": [health["avg_per_person"].get(kind) for kind in types],
                "type": "bar",
                "name": "average per person",
            },
            {
                "x": types,
                "y": [bounds.get(kind) for kind in types],
                "type": "scatter",
                "mode": "markers",
                "name": "check bound",
                "marker": {
                    "color": BOUND_COLOUR,
                    "symbol": "line-ew-open",
                    "size": 40,
                    "line": {"width": 3, "color": BOUND_COLOUR},
                },
            },
        ],
        "layout": {
            "height": 320,
            "margin": {"t": 20, "r": 10},
            "yaxis": {"type": "log", "title": {"text": "identifiers (log scale)"}},
        },
    }


def merges_chart(health: dict[str, Any]) -> dict[str, Any]:
    """Person id changes (merges and splits) per run day, by reason."""
    merges = health["merges"]
    reasons = sorted({row["change_reason"] for row in merges})
    return {
        "data": [
            {
                "x": [_text(row["day"]) for row in merges if row["change_reason"] == reason],
                "y": [row["changes"] for row in merges if row["change_reason"] == reason],
                "type": "bar",
                "name": reason,
            }
            for reason in reasons
        ],
        "layout": {
            "height": 320,
            "margin": {"t": 20, "r": 10},
            "barmode": "stack",
            "yaxis": {"title": {"text": "person id changes"}, "rangemode": "tozero"},
        },
    }
