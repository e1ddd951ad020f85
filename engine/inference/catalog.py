"""Find weights folders a painter can pick: read config.json only, never the tensors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.checkpoints import read_spec
from engine.errors import InputError
from engine.registry import ModelSpec

PAINTABLE = ("oasis", "inade", "msca", "spade", "resail", "ugen")  # families the studio can synthesise with
# The part without which a folder cannot paint: ugen keeps no generator of its own (it
# borrows a StyleGAN2 folder's) but cannot work without its feature rearranger.
ESSENTIAL = {"ugen": "rearranger.safetensors"}


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    folder: Path
    spec: ModelSpec | None
    problem: str = ""  # why it cannot be used (bad config, other family), shown greyed out

    @property
    def usable(self) -> bool:
        return self.spec is not None and not self.problem


def scan(folders: Iterable[Path]) -> list[CatalogEntry]:
    """Every sub-folder with a config.json under ``folders`` (each folder may itself be one)."""
    entries: list[CatalogEntry] = []
    seen: set[Path] = set()
    for root in folders:
        root = Path(root)
        if not root.is_dir():
            continue
        candidates = (
            [root] if (root / "config.json").is_file() else sorted(p for p in root.iterdir() if p.is_dir())
        )
        for folder in candidates:
            folder = folder.resolve()
            if folder in seen or not (folder / "config.json").is_file():
                continue
            seen.add(folder)
            try:
                spec = read_spec(folder)
            except InputError as error:
                entries.append(CatalogEntry(folder.name, folder, None, error.problem))
                continue
            problem = "" if spec.family in PAINTABLE else f"'{spec.family}' models cannot paint yet"
            essential = ESSENTIAL.get(spec.family, "generator.safetensors")
            if not (folder / essential).is_file() and not problem:
                problem = f"no {essential}"
            entries.append(CatalogEntry(folder.name, folder, spec, problem))
    return entries
