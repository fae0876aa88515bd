"""Server-side SVG charts: geometry computed here, drawn by templates. No
JavaScript and no CDN; every chart has a table beside it as its text form."""

from projects.models import ProjectStatus

# The same colours as the status badges in static/css/rcf.css.
STATUS_COLOURS = {
    "concept": "#b6bfc8",
    "under_review": "#8c959f",
    "prioritized": "#54aeff",
    "ready": "#2da44e",
    "presented": "#116329",
    "in_implementation": "#8250df",
    "completed": "#512a97",
    "on_hold": "#d4a72c",
    "withdrawn": "#cf222e",
}
STATE_COLOURS = {
    "covered": "#2da44e",
    "at_risk": "#d4a72c",
    "missed": "#cf222e",
    "pending": "#b6bfc8",
    "unscheduled": "#ffffff",
}


def stacked_bars(matrix: dict, *, width: int = 640, bar: int = 22, gap: int = 12, label_width: int = 0) -> dict:
    """Horizontal stacked bars: one per priority area, one segment per status."""
    biggest = max([row["total"] for row in matrix["rows"]] + [1])
    scale = (width - label_width - 40) / biggest
    bars = []
    for i, row in enumerate(matrix["rows"]):
        x = label_width
        segments = []
        for cell in row["cells"]:
            if cell["count"]:
                w = cell["count"] * scale
                segments.append({"x": round(x, 1), "width": round(w, 1), "count": cell["count"],
                                 "status": cell["status"], "colour": STATUS_COLOURS[cell["status"]]})
                x += w
        bars.append({"y": i * (bar + gap), "label": str(row["area"]), "total": row["total"],
                     "end": round(x, 1), "segments": segments})
    legend = [{"status": s, "label": s.label, "colour": STATUS_COLOURS[s]} for s in ProjectStatus]
    return {"width": width, "height": len(bars) * (bar + gap), "bar": bar, "bars": bars, "legend": legend}


def readiness_cells(readiness, *, cell: int = 64, gap: int = 6) -> dict:
    cells = [
        {"x": i * (cell + gap), "year": r.year, "state": r.state, "label": r.state_label,
         "colour": STATE_COLOURS[r.state], "count": r.counting_projects}
        for i, r in enumerate(readiness)
    ]
    return {"width": max(len(cells) * (cell + gap), cell), "height": cell, "cell": cell, "cells": cells}
