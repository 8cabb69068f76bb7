"""Reports: tables, run metadata, consensus files under ``reports/``."""

from .summary import build_report
from .table import render_markdown, render_table

__all__ = ["build_report", "render_markdown", "render_table"]
