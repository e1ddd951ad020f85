"""ADE20K in the SceneParsing challenge layout (ADEChallengeData2016).

```
ROOT/images/{training,validation}/ADE_*.jpg
ROOT/annotations/{training,validation}/ADE_*.png   8-bit, value = class id, 0 = "other"
```

The PNG values are our ``ade20k`` ids as they are, so no remapping happens here; whether
"other" becomes a channel is the network adapter's business. There are no instance maps
in this release.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from engine.data.base import (
    Entry,
    Problem,
    SegmentationDataset,
    scan_image_label_dirs,
    split_folder,
)
from engine.labels import LabelSet

SPLITS = {"train": "training", "val": "validation"}
EXTRACTED = "ADEChallengeData2016"  # the folder the official zip unpacks to


class ADE20KDataset(SegmentationDataset):
    """ADE20K SceneParsing, 150 classes + "other"."""

    kind: ClassVar[str] = "ade20k"
    layout: ClassVar[str] = (
        "ROOT/images/{training,validation}/*.jpg + ROOT/annotations/{training,validation}/*.png"
    )

    @classmethod
    def find_root(cls, root: Path) -> Path:
        # Pointing at the folder that holds the unpacked zip is a common slip; accept it.
        if not (root / "annotations").is_dir() and (root / EXTRACTED / "annotations").is_dir():
            return root / EXTRACTED
        return root

    @classmethod
    def detect(cls, root: Path) -> bool:
        for r in (root, root / EXTRACTED):
            if (r / "images").is_dir() and any((r / "annotations" / s).is_dir() for s in SPLITS.values()):
                return True
        return False

    def default_label_set(self) -> LabelSet:
        return LabelSet.builtin("ade20k")

    def scan(self) -> tuple[list[Entry], list[Problem]]:
        name = split_folder(self.root / "annotations", self.split, SPLITS, layout=self.layout)
        image_dir, label_dir = self.root / "images" / name, self.root / "annotations" / name
        return scan_image_label_dirs(image_dir, label_dir)
