"""COCO-Stuff 164k (the stuffthingmaps release).

```
ROOT/images/{train2017,val2017}/*.jpg
ROOT/stuffthingmaps/{train2017,val2017}/*.png   8-bit, 0..181 = class id, 255 = unlabeled
```

The PNG values are our ``cocostuff`` ids as they are (255 is the set's dontcare id).
There are no instance maps in this release.
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

SPLITS = {"train": "train2017", "val": "val2017"}


class CocoStuffDataset(SegmentationDataset):
    """COCO-Stuff: 182 ids (91 things, 91 stuff, some unused) + 255 unlabeled."""

    kind: ClassVar[str] = "cocostuff"
    layout: ClassVar[str] = (
        "ROOT/images/{train2017,val2017}/*.jpg + ROOT/stuffthingmaps/{train2017,val2017}/*.png"
    )

    @classmethod
    def detect(cls, root: Path) -> bool:
        return (root / "images").is_dir() and (root / "stuffthingmaps").is_dir()

    def default_label_set(self) -> LabelSet:
        return LabelSet.builtin("cocostuff")

    def scan(self) -> tuple[list[Entry], list[Problem]]:
        name = split_folder(self.root / "stuffthingmaps", self.split, SPLITS, layout=self.layout)
        image_dir, label_dir = self.root / "images" / name, self.root / "stuffthingmaps" / name
        return scan_image_label_dirs(image_dir, label_dir)
