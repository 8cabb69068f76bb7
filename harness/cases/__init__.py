"""What is tested: the case record, image sets, a project's declarations and the defaults."""

from .record import Case, case_params, image_limit

__all__ = ["Case", "case_params", "image_limit"]
