"""Lay out a person's identity graph for an inline SVG (no JavaScript needed).

A person holds a handful of identifiers (the identity checks bound it at 100), so a
circle is enough: the person's own identifiers on an inner ring, grouped by type, and
the other persons' identifiers that a refused link touched on an outer ring. The layout
is deterministic, so the same person draws the same picture in every test run.
"""

from __future__ import annotations

import math
from typing import Any

from orchestration.studio.data import IDENTIFIER_TYPES, IdentityGraph

WIDTH, HEIGHT = 1000, 600
INNER, OUTER = 190, 270
# One colour per identifier type (colour-blind safe: Okabe-Ito).
TYPE_COLOURS = {
    "customer_id": "#0072B2",
    "contact_id": "#009E73",
    "email": "#E69F00",
    "phone": "#CC79A7",
    "anonymous_id": "#56B4E9",
    "device_id": "#D55E00",
}


def _ring(nodes: list[dict[str, Any]], radius: float, offset: float) -> None:
    order = {kind: position for position, kind in enumerate(IDENTIFIER_TYPES)}
    nodes.sort(key=lambda node: (order.get(node["type"], 99), node["label"] or ""))
    for index, node in enumerate(nodes):
        angle = offset + 2 * math.pi * index / max(1, len(nodes))
        node["x"] = round(WIDTH / 2 + radius * math.cos(angle), 1)
        node["y"] = round(HEIGHT / 2 + radius * math.sin(angle), 1)
        node["colour"] = TYPE_COLOURS.get(node["type"], "#666666")


def layout(graph: IdentityGraph) -> dict[str, Any]:
    """Nodes with x/y/colour, and edges with their end points and label position."""
    nodes = [dict(node) for node in graph.nodes]
    inner = [node for node in nodes if not node["is_outside"]]
    outer = [node for node in nodes if node["is_outside"]]
    if len(inner) == 1:
        inner[0].update(x=WIDTH / 2, y=HEIGHT / 2, colour=TYPE_COLOURS.get(inner[0]["type"]))
    else:
        _ring(inner, INNER, -math.pi / 2)
    _ring(outer, OUTER, -math.pi / 2 + 0.3)
    by_id = {node["id"]: node for node in nodes}

    def placed(edge: dict[str, Any], refused: bool, number: int) -> dict[str, Any]:
        start, end = by_id[edge["source"]], by_id[edge["target"]]
        # Several links between one pair (rules, sources): each its own arc, numbered.
        pair = tuple(sorted((edge["source"], edge["target"])))
        nth = seen.get(pair, 0)
        seen[pair] = nth + 1
        bend = 0 if nth == 0 else (18 * ((nth + 1) // 2)) * (1 if nth % 2 else -1)
        dx, dy = end["x"] - start["x"], end["y"] - start["y"]
        length = math.hypot(dx, dy) or 1
        control_x = (start["x"] + end["x"]) / 2 - dy / length * bend * 2
        control_y = (start["y"] + end["y"]) / 2 + dx / length * bend * 2
        return {
            **edge,
            "number": number,
            "refused": refused,
            "path": f"M {start['x']} {start['y']} Q {control_x:.1f} {control_y:.1f} "
            f"{end['x']} {end['y']}",
            # the curve's midpoint
            "label_x": round((start["x"] + end["x"]) / 4 + control_x / 2, 1),
            "label_y": round((start["y"] + end["y"]) / 4 + control_y / 2, 1),
        }

    seen: dict[tuple[str, ...], int] = {}
    edges = [(edge, False) for edge in graph.edges] + [(edge, True) for edge in graph.refused]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "nodes": nodes,
        "edges": [placed(edge, refused, number) for number, (edge, refused) in enumerate(edges, 1)],
        "colours": TYPE_COLOURS,
    }
