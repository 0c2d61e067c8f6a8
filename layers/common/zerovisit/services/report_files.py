"""The 3550 report as files: a CSV table and a PNG chart of working days per matter and region
against the target (drawn with zerovisit.png, no plotting library)."""

import csv
import io
from typing import Any

from zerovisit.png import BLACK, Canvas, text_width

COLUMNS = (
    "matter_code",
    "name",
    "region_code",
    "region_name",
    "scope",
    "target_working_days",
    "completed",
    "closed_without_result",
    "mean_working_days",
    "max_working_days",
    "within_target",
    "within_target_share",
    "procedures",
    "required_documents",
    "mean_documents_submitted",
)
GREEN, RED, GREY, DARK = (46, 139, 87), (200, 55, 45), (200, 200, 200), (40, 40, 40)
SLOT, BAR, PANEL_HEIGHT, PLOT_HEIGHT, LEFT, TOP = 52, 30, 190, 120, 48, 40


def report_csv(report: dict[str, Any]) -> str:
    """One row per matter for the whole region (scope 'total'), then per city or district."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for scope, rows in (("total", report["matters"]), ("part", report["regions"])):
        for row in rows:
            writer.writerow({**row, "scope": scope})
    return out.getvalue()


def report_png(report: dict[str, Any]) -> bytes:
    """A panel per matter: a bar per region (the whole region first) with the mean working days,
    green within the target, red above it, grey without completed cases; the target is the dark
    dashed line across each bar's slot."""
    panels = [
        [row, *[r for r in report["regions"] if r["matter_code"] == row["matter_code"]]]
        for row in report["matters"]
    ]
    slots = max((len(p) for p in panels), default=1)
    title = f"3550 REPORT {report['region_code']} {report['from']} TO {report['to']}"
    legend = "BARS: MEAN WORKING DAYS  DASHES: TARGET  GREEN WITHIN  RED ABOVE  GREY NO CASES  N: CASES"
    width = max(slots * SLOT, text_width(title, scale=2), text_width(legend), 52 * 6)
    canvas = Canvas(LEFT + width + 20, TOP + max(len(panels), 1) * PANEL_HEIGHT + 24)
    canvas.text(LEFT, 10, title, scale=2)
    for index, rows in enumerate(panels):
        _panel(canvas, TOP + index * PANEL_HEIGHT, rows)
    canvas.text(LEFT, canvas.height - 14, legend, DARK)
    return canvas.png()


def _panel(canvas: Canvas, top: int, rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    canvas.text(LEFT, top, f"{first['matter_code']}  TARGET {first['target_working_days']} WORKING DAYS")
    highest = max(
        [r["target_working_days"] for r in rows] + [r["mean_working_days"] or 0 for r in rows] + [1]
    )
    scale = PLOT_HEIGHT / (highest * 1.15)
    base = top + 14 + PLOT_HEIGHT
    canvas.horizontal(LEFT - 4, LEFT + len(rows) * SLOT, base, BLACK)
    canvas.text(
        LEFT - 8 - text_width(f"{highest:g}"), base - round(highest * scale) - 3, f"{highest:g}", DARK
    )
    canvas.text(LEFT - 14, base - 3, "0", DARK)
    for slot, row in enumerate(rows):
        left = LEFT + slot * SLOT + (SLOT - BAR) // 2
        mean = row["mean_working_days"]
        if mean is None:
            canvas.rectangle(left, base - 2, left + BAR, base - 1, GREY)
        else:
            colour = GREEN if mean <= row["target_working_days"] else RED
            canvas.rectangle(left, base - max(1, round(mean * scale)), left + BAR, base - 1, colour)
            label = f"{mean:g}"
            canvas.text(left + (BAR - text_width(label)) // 2, base - round(mean * scale) - 10, label)
        target_y = base - round(row["target_working_days"] * scale)
        canvas.horizontal(left - 6, left + BAR + 6, target_y, DARK, dash=3)
        canvas.horizontal(left - 6, left + BAR + 6, target_y + 1, DARK, dash=3)
        code = row["region_code"]
        canvas.text(left + (BAR - text_width(code)) // 2, base + 5, code, DARK)
        count = f"N{row['completed']}"
        canvas.text(left + (BAR - text_width(count)) // 2, base + 15, count, DARK)
