"""Reports: tables, run metadata, files under ``reports/``."""

from .summary import write_report
from .table import render_markdown, render_table

__all__ = ["render_markdown", "render_table", "write_report"]
