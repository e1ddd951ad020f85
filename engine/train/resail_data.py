"""The two guidance images of every RESAIL training sample, made in the data loader.

RESAIL's step runs the generator twice on one map (method notes §4): (A) with the
*distorted ground truth* — the photo's own segments recoloured like a retrieved segment,
resampled and warped (:mod:`engine.train.resail_distort`) — and (B) with the *retrieval
guidance* the studio would compose, top-1 matches from the other training images.
Both are numpy/OpenCV work per image, so they run in the DataLoader's workers beside the
crop and flip, and the batch carries them as ``guidance_a`` / ``guidance_b``: (3, H, W)
float in [-1, 1], −1 where nothing was pasted (the generator's empty value).

Retrieval runs on the training crop, so a query is the map the generator sees. A
sample's own source image is excluded from its matches (the official code excludes a
segment's own match), found by stem in the database.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import Dataset

from engine.data import to_tensors
from engine.data.base import Sample
from engine.networks.resail import guidance_to_tensor
from engine.retrieval import Guidance, RetrievalParams, Retriever, SegmentDatabase
from engine.train.resail_distort import DistortParams, distort_ground_truth, pick_colour_source
from engine.train.sampling import AugmentedDataset

GUIDANCE_STREAM = 1  # the rng stream of the distortion, apart from the crop's


class GuidanceMaker:
    """Decompose a training map, retrieve its segments, and make guidance (A) and (B)."""

    def __init__(
        self,
        db: SegmentDatabase,
        params: RetrievalParams | None = None,
        distort: DistortParams | None = None,
    ) -> None:
        self.db = db
        self.params = params or RetrievalParams()
        self.distort = distort or DistortParams()
        self.source_of = {stem: i for i, stem in enumerate(db.sources.stems)}

    def __call__(self, sample: Sample, rng: np.random.Generator) -> tuple[Guidance, Guidance]:
        # The studio's retriever, once per sample: the same decomposition and scoring, with
        # the sample's own image left out of its matches.
        retriever = Retriever(self.db, self.params, exclude_source=self.source_of.get(sample.stem))
        retriever.update(sample.labels, sample.instances)
        segments, matches = retriever.segments, retriever.matches
        sources: list[np.ndarray | None] = []
        for m in matches:
            row = pick_colour_source(m.rows, rng)
            if row is None:
                sources.append(None)
                continue
            rgb, mask = self.db.crop(row)
            sources.append(rgb[mask])
        distorted = distort_ground_truth(
            sample.image, sample.labels, segments, sources, self.db.thing_ids, rng, self.distort
        )
        return distorted, retriever.guidance()  # nothing chosen: each segment's top-1


class ResailDataset(Dataset):
    """An :class:`AugmentedDataset` whose items also carry ``guidance_a`` and ``guidance_b``.

    Same crops and flips as the plain item (same seeds); the distortion draws from its own
    stream of (seed, epoch, index), so resuming replays it exactly.
    """

    def __init__(self, augmented: AugmentedDataset, maker: GuidanceMaker) -> None:
        self.augmented, self.maker = augmented, maker

    def __len__(self) -> int:
        return len(self.augmented)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        epoch, index = key
        a = self.augmented
        sample = a.transform(a.dataset[index], np.random.default_rng([a.seed, epoch, index]))
        distorted, retrieved = self.maker(
            sample, np.random.default_rng([a.seed, epoch, index, GUIDANCE_STREAM])
        )
        item: dict[str, Any] = dict(to_tensors(sample))
        item["guidance_a"] = guidance_to_tensor(distorted.image, distorted.valid)
        item["guidance_b"] = guidance_to_tensor(retrieved.image, retrieved.valid)
        return item
