"""Training and evaluation transforms, and the bridge to torch.

Randomness is always passed in (a ``numpy.random.Generator``), never drawn from global
state, so the augmentation of sample i in epoch e is a pure function of (seed, e, i):
training is reproducible across runs, worker counts and resumes.

Label and instance maps are resized with exact nearest-neighbour (``INTER_NEAREST_EXACT``):
no interpolation may invent ids. Plain ``INTER_NEAREST`` samples the top-left of each
source cell, shifting labels by up to half a pixel against the image, which is resized
about pixel centres; the exact variant samples centres too, so the two stay aligned.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from engine.data.base import Sample, SegmentationDataset

_NEAREST = cv2.INTER_NEAREST_EXACT


def _size2(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else size
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"size must be positive (H, W), got {size!r}")
    return int(h), int(w)


def cover_size(hw: tuple[int, int], size: tuple[int, int], load_size: int | None = None) -> tuple[int, int]:
    """The (H, W) to resize an image of ``hw`` to before cropping ``size``.

    The aspect ratio is kept; the result covers ``size`` in both dimensions, and with
    ``load_size`` its shorter side is at least that (OASIS: 286 then a 256 crop).
    """
    h, w = hw
    th, tw = size
    scale = max(th / h, tw / w)
    if load_size is not None:
        scale = max(scale, load_size / min(h, w))
    return max(th, round(h * scale)), max(tw, round(w * scale))


def resize_sample(sample: Sample, hw: tuple[int, int]) -> Sample:
    """Resize all maps of ``sample`` to ``hw`` = (H, W): area/linear for the photo, nearest for ids."""
    h, w = sample.labels.shape[:2]
    th, tw = hw
    if (h, w) == (th, tw):
        return sample
    # INTER_AREA averages every source pixel when shrinking (no aliasing); it is blocky
    # when enlarging, where bilinear is the better choice.
    interp = cv2.INTER_AREA if th <= h and tw <= w else cv2.INTER_LINEAR
    image = cv2.resize(sample.image, (tw, th), interpolation=interp)
    labels = cv2.resize(sample.labels, (tw, th), interpolation=_NEAREST)
    instances = None
    if sample.instances is not None:
        instances = cv2.resize(sample.instances, (tw, th), interpolation=_NEAREST)
    # Depth is a continuous quantity: resampled like the photo, so the two stay in step.
    depth = None if sample.depth is None else cv2.resize(sample.depth, (tw, th), interpolation=interp)
    return Sample(sample.stem, image, labels, instances, depth)


def crop_sample(sample: Sample, top: int, left: int, hw: tuple[int, int], flip: bool = False) -> Sample:
    """The ``hw`` window at (top, left), mirrored left-right when ``flip``; arrays are contiguous."""
    th, tw = hw
    rows, cols = slice(top, top + th), slice(left, left + tw)
    step = -1 if flip else 1

    def cut(a: np.ndarray) -> np.ndarray:
        # Contiguous copies: torch.from_numpy rejects the negative strides of a flip.
        return np.ascontiguousarray(a[rows, cols][:, ::step])

    instances = cut(sample.instances) if sample.instances is not None else None
    depth = cut(sample.depth) if sample.depth is not None else None
    return Sample(sample.stem, cut(sample.image), cut(sample.labels), instances, depth)


class TrainTransform:
    """Resize to cover ``size`` (shorter side ``load_size`` if given), random crop, random flip."""

    def __init__(
        self, *, size: int | tuple[int, int], load_size: int | None = None, flip: bool = True
    ) -> None:
        self.size = _size2(size)
        if load_size is not None and load_size < min(self.size):
            raise ValueError(f"load_size {load_size} is smaller than the crop {self.size}")
        self.load_size = load_size
        self.flip = flip

    def __repr__(self) -> str:
        return f"TrainTransform(size={self.size}, load_size={self.load_size}, flip={self.flip})"

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        resized = resize_sample(sample, cover_size(sample.labels.shape[:2], self.size, self.load_size))
        h, w = resized.labels.shape[:2]
        th, tw = self.size
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        # Always draw the flip bit, so turning flips off does not change the crops.
        flip = bool(rng.random() < 0.5) and self.flip
        return crop_sample(resized, top, left, self.size, flip)


class EvalTransform:
    """Resize to exactly ``size`` = (H, W); deterministic (``rng`` is accepted and ignored)."""

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = _size2(size)

    def __repr__(self) -> str:
        return f"EvalTransform(size={self.size})"

    def __call__(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        return resize_sample(sample, self.size)


class Batch(TypedDict):
    """What every trainer's ``step`` takes: one format for the loader, benchmarks and tests.

    image: float32 (B, 3, H, W) in [-1, 1]; labels, instances: int64 (B, H, W), the
    instances all 0 where the dataset has none; depth: float32 (B, 1, H, W) in [0, 1]
    (0 = near), only from datasets with depth maps. One sample (from :func:`to_tensors`) has
    the same keys without the batch dimension.
    """

    image: torch.Tensor
    labels: torch.Tensor
    instances: torch.Tensor
    depth: NotRequired[torch.Tensor]


def make_batch(samples: list[Sample]) -> Batch:
    """Samples of one size → a Batch (what the DataLoader's collation gives for them)."""
    if not samples:
        raise ValueError("a batch needs at least one sample")
    items = [to_tensors(s) for s in samples]
    batch = Batch(
        image=torch.stack([i["image"] for i in items]),
        labels=torch.stack([i["labels"] for i in items]),
        instances=torch.stack([i["instances"] for i in items]),
    )
    if all("depth" in i for i in items):
        batch["depth"] = torch.stack([i["depth"] for i in items])
    return batch


def to_tensors(sample: Sample) -> Batch:
    """Torch tensors as the networks take them.

    "image": float32 (3, H, W) in [-1, 1]; "labels" and "instances": int64 (H, W), the
    instances all 0 when the dataset has none (so batches of any dataset collate alike);
    "depth": float32 (1, H, W) in [0, 1] when the sample has a depth map.
    """
    # Decoded images can be read-only views; the float conversion makes the copy anyway.
    image = torch.from_numpy(sample.image.astype(np.float32)).permute(2, 0, 1)
    image = image.div_(127.5).sub_(1.0)
    labels = torch.from_numpy(sample.labels.astype(np.int64))
    if sample.instances is None:
        instances = torch.zeros(labels.shape, dtype=torch.int64)
    else:
        instances = torch.from_numpy(sample.instances.astype(np.int64))
    item = Batch(image=image, labels=labels, instances=instances)
    if sample.depth is not None:
        item["depth"] = torch.from_numpy(np.array(sample.depth, dtype=np.float32))[None]
    return item


Transform = TrainTransform | EvalTransform


class TorchDataset(Dataset):
    """A SegmentationDataset as a torch Dataset of tensor dicts, augmented reproducibly.

    Item i in epoch e is transformed with ``numpy.random.default_rng([seed, e, i])``. Call
    :meth:`set_epoch` before each epoch; with persistent DataLoader workers (which keep
    their own copy of this object) index by ``(epoch, i)`` instead, which is also what a
    sampler resuming mid-epoch wants.
    """

    def __init__(self, dataset: SegmentationDataset, transform: Transform, *, seed: int = 0) -> None:
        self.dataset = dataset
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose augmentations integer indices get."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        """The generator for item ``index`` of ``epoch``."""
        return np.random.default_rng([self.seed, epoch, index])

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (self.epoch, key)
        index = int(index)
        if index < 0:
            index += len(self.dataset)  # a negative index must not get its own random stream
        sample = self.dataset[index]
        return to_tensors(self.transform(sample, self.rng(int(epoch), index)))
