"""Cityscapes with fine annotations.

```
ROOT/leftImg8bit/{train,val,test}/<city>/<city>_xxxxxx_yyyyyy_leftImg8bit.png
ROOT/gtFine/{train,val,test}/<city>/<city>_xxxxxx_yyyyyy_gtFine_labelIds.png
ROOT/gtFine/{train,val,test}/<city>/<city>_xxxxxx_yyyyyy_gtFine_instanceIds.png   (optional)
```

The labelIds PNG values are our ``cityscapes`` ids (0..33), not the 19 trainIds. In the
instanceIds maps a value >= 1000 is ``labelId * 1000 + k`` for one object of a thing class;
smaller values are the labelId of stuff or of a crowd region. We keep the raw value as the
instance id (unique per image and it still tells the class) and make the rest 0.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from engine.data.base import Entry, Problem, SegmentationDataset, index_by_stem, pair_by_stem, split_folder
from engine.labels import LabelSet

IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_labelIds.png"
INSTANCE_SUFFIX = "_gtFine_instanceIds.png"
INSTANCE_MIN = 1000  # instanceIds values below this are not objects


def _files(folder: Path, suffix: str) -> list[Path]:
    """``<city>/*<suffix>`` under ``folder``, sorted (one level of city folders)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"*/*{suffix}") if not p.name.startswith("."))


def _stemmer(suffix: str) -> Callable[[Path], str | None]:
    """The stem of a file ending in ``suffix``, or None for other files (colour maps, polygons)."""

    def stem_of(path: Path) -> str | None:
        return path.name[: -len(suffix)] if path.name.endswith(suffix) else None

    return stem_of


class CityscapesDataset(SegmentationDataset):
    """Cityscapes gtFine: 35 labelIds, instances for thing classes."""

    kind: ClassVar[str] = "cityscapes"
    layout: ClassVar[str] = (
        "ROOT/leftImg8bit/<split>/<city>/*_leftImg8bit.png + "
        "ROOT/gtFine/<split>/<city>/*_gtFine_labelIds.png (+ *_gtFine_instanceIds.png)"
    )

    @classmethod
    def detect(cls, root: Path) -> bool:
        return (root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir()

    def default_label_set(self) -> LabelSet:
        return LabelSet.builtin("cityscapes")

    def convert_instances(self, raw: np.ndarray) -> np.ndarray:
        return np.where(raw >= INSTANCE_MIN, raw, 0).astype(np.int32, copy=False)

    def scan(self) -> tuple[list[Entry], list[Problem]]:
        name = split_folder(self.root / "gtFine", self.split, {}, layout=self.layout)
        image_dir, label_dir = self.root / "leftImg8bit" / name, self.root / "gtFine" / name
        images, p1 = index_by_stem(_files(image_dir, IMAGE_SUFFIX), _stemmer(IMAGE_SUFFIX))
        labels, p2 = index_by_stem(_files(label_dir, LABEL_SUFFIX), _stemmer(LABEL_SUFFIX))
        instances, p3 = index_by_stem(_files(label_dir, INSTANCE_SUFFIX), _stemmer(INSTANCE_SUFFIX))

        def city(stem: str) -> str:
            return stem.split("_", 1)[0]

        entries, p4 = pair_by_stem(
            images,
            labels,
            instances,
            expected_label=lambda s: label_dir / city(s) / f"{s}{LABEL_SUFFIX}",
            expected_image=lambda s: image_dir / city(s) / f"{s}{IMAGE_SUFFIX}",
        )
        return entries, p1 + p2 + p3 + p4
