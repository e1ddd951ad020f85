"""Deterministic, resumable batches: which samples and which random numbers a step uses.

Everything random in a training step is a pure function of (seed, step, rank): the
sample order of each epoch, the augmentation of each sample, the noise, the LabelMix
bits. Resuming at step s therefore replays exactly what an uninterrupted run would
have done, with no RNG state to save, on one process or many.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from engine.data import SegmentationDataset, TrainTransform, to_tensors


def step_generator(seed: int, step: int, rank: int, stream: int = 0) -> torch.Generator:
    """A CPU generator unique to (seed, step, rank, stream)."""
    mixed = np.random.SeedSequence([seed, step, rank, stream]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(mixed) & 0x7FFF_FFFF_FFFF_FFFF)


class StepBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields, from ``start_step`` on, this rank's share of each global batch as (epoch, index)."""

    def __init__(
        self,
        *,
        num_samples: int,
        global_batch: int,
        seed: int,
        rank: int,
        world: int,
        start_step: int,
        stop_step: int,
    ) -> None:
        if global_batch % world:
            raise ValueError(f"the batch {global_batch} does not split over {world} processes")
        if num_samples < global_batch:
            raise ValueError(f"the dataset has {num_samples} samples, fewer than one batch ({global_batch})")
        self.num_samples, self.global_batch = num_samples, global_batch
        self.seed, self.rank, self.world = seed, rank, world
        self.start_step, self.stop_step = start_step, stop_step
        self.steps_per_epoch = num_samples // global_batch

    def __len__(self) -> int:
        return max(0, self.stop_step - self.start_step)

    def batch_for_step(self, step: int) -> list[tuple[int, int]]:
        epoch, k = divmod(step, self.steps_per_epoch)
        perm = torch.randperm(
            self.num_samples, generator=torch.Generator().manual_seed(self.seed * 7919 + epoch)
        )
        chunk = perm[k * self.global_batch : (k + 1) * self.global_batch]
        per_rank = self.global_batch // self.world
        mine = chunk[self.rank * per_rank : (self.rank + 1) * per_rank]
        return [(epoch, int(i)) for i in mine]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for step in range(self.start_step, self.stop_step):
            yield self.batch_for_step(step)


class AugmentedDataset(Dataset):
    """Item (epoch, i) = sample i augmented with a generator seeded by (seed, epoch, i)."""

    def __init__(self, dataset: SegmentationDataset, transform: TrainTransform, seed: int) -> None:
        self.dataset, self.transform, self.seed = dataset, transform, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key
        rng = np.random.default_rng([self.seed, epoch, index])
        return to_tensors(self.transform(self.dataset[index], rng))
