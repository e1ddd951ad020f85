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
    IMAGE_SUFFIXES,
    Entry,
    Problem,
    SegmentationDataset,
    index_by_stem,
    list_files,
    pair_by_stem,
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
        images, p1 = index_by_stem(list_files(image_dir, IMAGE_SUFFIXES))
        labels, p2 = index_by_stem(list_files(label_dir, (".png",)))
        entries, p3 = pair_by_stem(
            images,
            labels,
            expected_label=lambda s: label_dir / f"{s}.png",
            expected_image=lambda s: image_dir / f"{s}.jpg",
        )
        return entries, p1 + p2 + p3
