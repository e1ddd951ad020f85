"""Errors the user can act on.

Every error raised for bad input names the file (or option), the offending value and
the fix, so the studio can show it as is and the CLI can print it without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class TesseraError(Exception):
    """Base class for errors that carry a user-facing message."""


class InputError(TesseraError):
    """A file or value supplied by the user is unusable.

    The message is built from what was wrong (``problem``), where (``source``: a path
    or an option name) and what to do about it (``fix``).
    """

    def __init__(self, problem: str, *, source: str | Path | None = None, fix: str = "") -> None:
        self.problem = problem
        self.source = str(source) if source is not None else None
        self.fix = fix
        parts = [f"{self.source}: {problem}" if self.source else problem]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__("\n".join(parts))


class WeightsError(InputError):
    """A weights folder or checkpoint file is missing, truncated or of another family."""


class DatasetError(InputError):
    """A dataset entry is missing its pair, has mismatched sizes or out-of-range ids."""
