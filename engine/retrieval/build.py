"""Building the segment database from a dataset's training split.

Every image is decomposed exactly as a query map is (:func:`~engine.retrieval.segments.decompose`),
so database and query segments agree. Per image the build stores one JPEG (shrunk to at most
``image_side`` pixels a side) and one zlib-compressed map of segment ids (lossless: the
masks pasted into the guidance image are exact); per segment, its row of :class:`SegmentTable`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from engine.data.base import Sample
from engine.errors import InputError
from engine.labels import LabelSet
from engine.retrieval.database import SegmentDatabase, SegmentTable, SourceImages
from engine.retrieval.segments import COVERAGE, GRID, MIN_AREA, decompose, mask_grid


@dataclass(frozen=True)
class BuildOptions:
    """How a database is built; stored in its index so a rebuild can repeat it."""

    grid: int = GRID  # mask grid side (a multiple of 8: rows pack into 64-bit words)
    # The stored JPEG: longest side and quality. On landscapes 256² at full size and quality
    # 50 is 5.6 KB an image at 34.1 dB PSNR, better than 192² at quality 85 (6.7 KB, 34.0 dB
    # after upsampling), and keeps the 2400-image database under 30 MB.
    image_side: int = 256
    quality: int = 50
    coverage: float = COVERAGE  # stuff: keep the largest components covering this share
    min_area: int = MIN_AREA  # skip segments smaller than this many pixels

    def __post_init__(self) -> None:
        checks = (
            ("grid", self.grid >= 8 and self.grid % 8 == 0, "a multiple of 8 (8, 16, 32, …)"),
            ("image_side", 16 <= self.image_side <= 4096, "16 … 4096 pixels"),
            ("quality", 1 <= self.quality <= 100, "1 … 100"),
            ("coverage", 0 < self.coverage <= 1, "in (0, 1]"),
            ("min_area", self.min_area >= 1, "at least 1"),
        )
        for name, ok, wanted in checks:
            if not ok:
                raise InputError(
                    f"{name} is {getattr(self, name)!r}",
                    source=f"--{name.replace('_', '-')}",
                    fix=f"use {wanted}",
                )


def _encode(ext: str, array: np.ndarray, params: list[int], stem: str) -> np.ndarray:
    ok, buf = cv2.imencode(ext, array, params)
    if not ok:
        raise InputError(f"cannot encode {stem} as {ext}", source=stem, fix="check the image")
    return buf.reshape(-1)


def _store_image(image: np.ndarray, options: BuildOptions, stem: str) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, options.image_side / max(h, w))
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    return _encode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, options.quality], stem)


def build_database(
    samples: Iterable[Sample],
    label_set: LabelSet,
    options: BuildOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    info: dict[str, Any] | None = None,
) -> SegmentDatabase:
    """Decompose every sample into segments and collect them into a database.

    ``progress`` is called with the number of images done; ``info`` (e.g. the command that
    recreates the build) is stored in the index beside the options.
    """
    options = options or BuildOptions()
    things = [c.id for c in label_set if c.thing]
    ignore = () if label_set.dontcare is None else (label_set.dontcare,)
    rows: dict[str, list[Any]] = {k: [] for k in ("classes", "sources", "local_ids", "boxes", "areas")}
    grids: list[np.ndarray] = []
    stems: list[str] = []
    sizes: list[tuple[int, int]] = []
    jpegs: list[np.ndarray] = []
    segmaps: list[np.ndarray] = []
    start = time.perf_counter()
    for n, sample in enumerate(samples):
        if max(sample.labels.shape) > np.iinfo(np.uint16).max:  # boxes are stored as uint16
            raise InputError(
                f"the image is {sample.labels.shape[1]}×{sample.labels.shape[0]} pixels, over 65535 a side",
                source=sample.stem,
                fix="resize the dataset's images",
            )
        segments = decompose(
            sample.labels, sample.instances, things,
            coverage=options.coverage, min_area=options.min_area, ignore=ignore,
        )  # fmt: skip
        # 16-bit ids only when an image has more than 255 kept segments.
        ids = np.zeros(sample.labels.shape, np.uint8 if len(segments) < 256 else np.uint16)
        for local, seg in enumerate(segments, start=1):
            y0, x0, y1, x1 = seg.box
            ids[y0:y1, x0:x1][seg.mask] = local
            rows["classes"].append(seg.class_id)
            rows["sources"].append(n)
            rows["local_ids"].append(local)
            rows["boxes"].append(seg.box)
            rows["areas"].append(seg.area)
            grids.append(np.packbits(mask_grid(seg.mask, options.grid).reshape(-1)))
        stems.append(sample.stem)
        sizes.append(sample.labels.shape[:2])
        jpegs.append(_store_image(sample.image, options, sample.stem))
        # Raw ids through zlib: 1.4 KB a 256² landscapes map, where PNG's row filters make 2.0 KB.
        segmaps.append(np.frombuffer(zlib.compress(ids.tobytes(), 9), np.uint8))
        if progress is not None:
            progress(n + 1)
    if not stems:
        raise InputError(
            "no images to build a retrieval database from", fix="pass a non-empty training split"
        )
    table = SegmentTable(
        classes=np.asarray(rows["classes"], np.uint16),
        sources=np.asarray(rows["sources"], np.int32),
        local_ids=np.asarray(rows["local_ids"], np.uint16),
        boxes=np.asarray(rows["boxes"], np.uint16).reshape(-1, 4),
        areas=np.asarray(rows["areas"], np.int32),
        grids=np.stack(grids) if grids else np.zeros((0, options.grid**2 // 8), np.uint8),
    )
    sources = SourceImages(
        stems=tuple(stems),
        sizes=np.asarray(sizes, np.int32).reshape(-1, 2),
        jpeg=np.concatenate(jpegs),
        jpeg_offsets=np.cumsum([0, *(len(b) for b in jpegs)], dtype=np.int64),
        segmap=np.concatenate(segmaps),
        segmap_offsets=np.cumsum([0, *(len(b) for b in segmaps)], dtype=np.int64),
    )
    meta = {
        "options": asdict(options),
        "build_seconds": round(time.perf_counter() - start, 1),
        **(info or {}),
    }
    return SegmentDatabase(label_set, options.grid, table, sources, meta)
