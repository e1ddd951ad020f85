"""``landscapes:PATH`` — a folder dataset written by ``app-train data landscapes``."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from engine.data.folder import FolderDataset
from engine.labels import LabelSet


class LandscapesDataset(FolderDataset):
    """The generic folder layout with the landscapes label set as its default."""

    kind: ClassVar[str] = "landscapes"

    @classmethod
    def detect(cls, root: Path) -> bool:
        return False  # a bare path is read as "folder", which reads the same files

    def default_label_set(self) -> LabelSet:
        if (self.root / "dataset.json").is_file():
            return super().default_label_set()
        return LabelSet.builtin("landscapes")
