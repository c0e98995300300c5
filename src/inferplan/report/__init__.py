"""Plan reports: a self-contained HTML page and a CSV of the priced options."""

from __future__ import annotations

from inferplan.report.export import CSV_COLUMNS, write_plan_csv
from inferplan.report.html import render_plan_html, write_plan_html

__all__ = ["CSV_COLUMNS", "render_plan_html", "write_plan_csv", "write_plan_html"]
