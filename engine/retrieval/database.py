"""The segment database: every kept segment of a training split, searchable by class and shape.

Per segment the database holds its class, source image, box, pixel area and its mask
stretched to a G×G grid as packed bits (what the score reads). Pixels are held per
*source image*, not per segment: one JPEG of the image (at most ``image_side`` pixels a
side) and one lossless PNG map of segment ids, from which any segment's RGB crop and exact
mask are cut on demand. A crop per segment was measured first: the landscapes training set
keeps ~31 segments an image, and their crops at ≤ 64 px a side alone came to ~110 MB raw,
against a 30 MB budget for the whole database; the JPEG of each image is ~7 KB.

Saving and loading are :mod:`engine.retrieval.storage`; building from a dataset is
:mod:`engine.retrieval.build`.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.errors import InputError
from engine.labels import LabelSet
from engine.retrieval.score import ClassIndex, Matches, RetrievalParams, pack_grid
from engine.retrieval.segments import Segment, mask_grid

_DECODED_IMAGES = 64  # source images kept decoded (≈ 17 MB at 256²): a guidance uses a few dozen


class DatabaseError(InputError):
    """A retrieval database that is missing, damaged, foreign or of another label set."""


@dataclass(frozen=True)
class SegmentTable:
    """One row per segment (all arrays have N rows)."""

    classes: np.ndarray  # uint16, class id (label maps are uint16)
    sources: np.ndarray  # int32, index of the source image
    local_ids: np.ndarray  # uint16, the segment's id in its source's segment map (1, 2, …)
    boxes: np.ndarray  # uint16 N×4, (y0, x0, y1, x1) half-open, source pixels
    areas: np.ndarray  # int32, mask pixels
    grids: np.ndarray  # uint8 N×(G²/8), the G×G mask grid as packed bits

    def __len__(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class SourceImages:
    """Per source image: its stem, size, JPEG bytes and compressed segment-id map."""

    stems: tuple[str, ...]
    sizes: np.ndarray  # int32 M×2, (H, W) of the original image
    jpeg: np.ndarray  # uint8, every JPEG one after the other
    jpeg_offsets: np.ndarray  # int64 M+1
    segmap: np.ndarray  # uint8, every zlib-compressed segment-id map one after the other
    segmap_offsets: np.ndarray  # int64 M+1

    def __len__(self) -> int:
        return len(self.stems)


class SegmentDatabase:
    """Segments of a training split, an index per class, and their pixels on demand."""

    def __init__(
        self,
        label_set: LabelSet,
        grid: int,
        table: SegmentTable,
        sources: SourceImages,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.label_set = label_set
        self.grid = grid
        self.table = table
        self.sources = sources
        self.info = dict(info or {})  # build settings and the command that recreates it
        self.path: str | None = None  # the folder it was loaded from, for error messages
        self.thing_ids = frozenset(c.id for c in label_set if c.thing)
        sizes = sources.sizes[table.sources].astype(np.float64)
        self.fractions = table.areas / (sizes[:, 0] * sizes[:, 1])  # area as a share of its image
        words = table.grids.view(np.uint64)
        # Every class's index up front (≈ 0.2 s for 70k segments), so no query pays for one.
        self._indices: dict[int, ClassIndex] = {}
        for cid in np.unique(table.classes):
            rows = np.flatnonzero(table.classes == cid)
            self._indices[int(cid)] = ClassIndex(
                rows, words[rows], self.fractions[rows], table.sources[rows], grid
            )
        self._decoded: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        # The studio crops thumbnails on its GUI thread while the synthesis worker composes
        # guidance from the same cache: its check-then-move must not interleave.
        self._decoded_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.table)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for loader workers started by spawn: a lock does not travel, nor the cache."""
        state = dict(self.__dict__)
        state["_decoded"], state["_decoded_lock"] = OrderedDict(), None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._decoded_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"SegmentDatabase({len(self)} segments of {len(self.sources)} images, "
            f"label_set={self.label_set.name!r}, grid={self.grid})"
        )

    # ------------------------------------------------------------------ search
    def index(self, class_id: int) -> ClassIndex | None:
        """The candidates of one class, or None if it has none."""
        return self._indices.get(class_id)

    def query_words(self, segment: Segment) -> np.ndarray:
        return pack_grid(mask_grid(segment.mask, self.grid))

    def retrieve(
        self,
        segments: Sequence[Segment],
        map_shape: tuple[int, int],
        params: RetrievalParams | None = None,
        *,
        exclude_source: int | None = None,
    ) -> list[Matches]:
        """Top-k same-class matches of each segment of a ``map_shape`` map.

        ``exclude_source`` leaves out one source image: when the query is a training
        image itself, its own segments would otherwise be the perfect matches.
        """
        params = params or RetrievalParams()
        map_area = float(map_shape[0] * map_shape[1])
        out = []
        for seg in segments:
            index = self.index(seg.class_id)
            if index is None:
                out.append(Matches.none())
                continue
            out.append(index.query(self.query_words(seg), seg.area / map_area, params, exclude_source))
        return out

    # ------------------------------------------------------------------ pixels
    def _source(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(RGB at the original size, segment-id map) of source image ``i``, cached."""
        with self._decoded_lock:
            return self._decode(i)

    def _decode(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i in self._decoded:
            self._decoded.move_to_end(i)
            return self._decoded[i]
        s = self.sources
        jpeg = s.jpeg[s.jpeg_offsets[i] : s.jpeg_offsets[i + 1]]
        packed = s.segmap[s.segmap_offsets[i] : s.segmap_offsets[i + 1]]
        h, w = (int(v) for v in s.sizes[i])
        bgr = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        try:
            raw = zlib.decompress(packed.tobytes())
        except zlib.error:
            raw = b""
        # One byte a pixel, or two when the image kept more than 255 segments.
        wide = len(raw) == 2 * h * w
        if bgr is None or len(raw) not in (h * w, 2 * h * w):
            raise DatabaseError(
                f"the pixels of source image {i} ({s.stems[i]}) do not decode",
                source=self.path,
                fix="the database is damaged: build it again with app-train retrieval build",
            )
        ids = np.frombuffer(raw, np.uint16 if wide else np.uint8).reshape(h, w)
        if bgr.shape[:2] != (h, w):  # stored smaller to save space
            bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_LINEAR)
        decoded = (np.ascontiguousarray(bgr[:, :, ::-1]), ids)
        self._decoded[i] = decoded
        if len(self._decoded) > _DECODED_IMAGES:
            self._decoded.popitem(last=False)
        return decoded

    def crop(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Segment ``row``'s RGB crop (box-sized, uint8) and its mask (box-sized, bool)."""
        t = self.table
        rgb, ids = self._source(int(t.sources[row]))
        y0, x0, y1, x1 = (int(v) for v in t.boxes[row])
        return rgb[y0:y1, x0:x1], ids[y0:y1, x0:x1] == t.local_ids[row]

    def describe(self, row: int) -> dict[str, Any]:
        """What the studio shows for a segment: class, source image and box."""
        t = self.table
        cid = int(t.classes[row])
        return {
            "row": int(row),
            "class_id": cid,
            "class": self.label_set.by_id(cid).name,
            "source": self.sources.stems[int(t.sources[row])],
            "box": [int(v) for v in t.boxes[row]],
            "area": int(t.areas[row]),
        }
