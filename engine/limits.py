"""Size limits that keep a hostile or mistaken file from taking all memory.

A 168 KB PNG can declare 12000×12000 pixels; decoding it takes gigabytes before anything
can object. Every image reader checks the declared size from the header first, against
a limit far above real use (64 megapixels: an 8K photo is 33), which the environment
variable ``TESSERA_MAX_PIXELS`` can raise.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import InputError

DEFAULT_MAX_PIXELS = 64 * 1024 * 1024


def max_pixels() -> int:
    try:
        return max(1, int(os.environ.get("TESSERA_MAX_PIXELS", DEFAULT_MAX_PIXELS)))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def check_pixels(width: int, height: int, source: str | Path) -> None:
    """Refuse an image of ``width``×``height`` above the pixel limit, before decoding it."""
    limit = max_pixels()
    if width * height > limit:
        raise InputError(
            f"the image is {width}×{height} = {width * height / 1e6:.0f} megapixels, "
            f"above the limit of {limit / 1e6:.0f}",
            source=source,
            fix="scale it down first, or raise the limit with TESSERA_MAX_PIXELS if you have the memory",
        )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: int, what: str, source: str | Path) -> None:
    """Refuse work that would need more memory than is available (with a 10 % margin)."""
    free = available_memory()
    if free is not None and need > 0.9 * free:
        raise InputError(
            f"{what} needs about {need / 2**30:.1f} GiB of memory; {free / 2**30:.1f} GiB are free",
            source=source,
            fix="paint a smaller canvas (or tiles of it), or use a machine with more memory",
        )
