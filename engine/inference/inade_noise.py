"""INADE's per-instance noise, derived from the document's noise field.

The studio keeps one kind of noise state for every family: a :class:`NoiseField`
(regions, each with a seed or an explicit vector), which re-roll, lock, variations,
undo and project files already handle. An INADE model reads it per *instance*:

* the instances are the scene's object instances (id > 0) plus, per class, one "stuff"
  instance for the rest of that class (the official convention without instance maps);
* an instance's noise (2 × noise_nc: the γ row and the β row) comes from the noise
  regions it overlaps. If one of them holds an explicit vector ("copy style", "style
  from photo") the largest such one is used as is; otherwise the seeds of all
  overlapping regions, the class and the instance id are mixed into one seed. So a
  re-roll that touches an instance re-rolls that whole instance and nothing else, and
  two trees under one region still differ;
* the global vector that feeds ``fc`` comes from the oldest region (the smallest id),
  which only "re-roll everything" replaces: re-rolling one object keeps the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.noise import NoiseField, seeded_vector

GLOBAL_STREAM = 0x6C0B  # separates the global vector's seed from the instances'


@dataclass(frozen=True)
class InstanceLayout:
    """``ids`` (H, W) int64 in 0 … K−1 and, per id, (class id, instance id; 0 = stuff)."""

    ids: np.ndarray
    keys: list[tuple[int, int]]

    @property
    def count(self) -> int:
        return len(self.keys)

    def mask(self, index: int) -> np.ndarray:
        return self.ids == index

    def index_at(self, y: int, x: int) -> int:
        return int(self.ids[y, x])


def instance_layout(labels: np.ndarray, instances: np.ndarray | None) -> InstanceLayout:
    """Number the instances of a scene (label ids and instance ids, both H × W)."""
    labels = np.asarray(labels, np.int64)
    inst = np.zeros_like(labels) if instances is None else np.asarray(instances, np.int64)
    stuff = int(labels.max(initial=0)) + 1
    key = np.where(inst > 0, inst + stuff, labels)
    used, ids = np.unique(key, return_inverse=True)
    keys = []
    for k in used.tolist():
        if k < stuff:
            keys.append((int(k), 0))
        else:  # an object: its class is the most common label under it
            where = key == k
            keys.append((int(np.bincount(labels[where]).argmax()), int(k - stuff)))
    return InstanceLayout(ids.reshape(labels.shape).astype(np.int64), keys)


def _mixed_seed(*parts: int) -> int:
    state = np.random.SeedSequence([int(p) & 0xFFFF_FFFF_FFFF_FFFF for p in parts]).generate_state(
        2, np.uint32
    )
    return (int(state[0]) << 31 | int(state[1]) >> 1) & 0x7FFF_FFFF_FFFF_FFFF


def _vector_seed(vector: torch.Tensor) -> int:
    return _mixed_seed(*np.frombuffer(vector.numpy().astype(np.float32).tobytes(), np.uint32).tolist())


def instance_noise(
    layout: InstanceLayout, noise: NoiseField, noise_nc: int, z_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, K, 2, noise_nc) instance noise and the (1, z_dim) global vector for ``layout``."""
    if noise.z_dim != 2 * noise_nc:
        raise ValueError(f"an INADE noise field has vectors of 2 × {noise_nc}, this one {noise.z_dim}")
    region_ids = np.array(noise.region_ids, np.int64)
    region = np.searchsorted(region_ids, noise.region_map)
    r = len(region_ids)
    overlap = np.bincount((layout.ids * r + region).ravel(), minlength=layout.count * r).reshape(
        layout.count, r
    )
    values = [noise.region_value(int(k)) for k in region_ids]
    rows = []
    for k, (class_id, instance_id) in enumerate(layout.keys):
        touched = np.flatnonzero(overlap[k])
        explicit = [i for i in touched if not isinstance(values[i], int)]
        if explicit:
            best = max(explicit, key=lambda i: overlap[k, i])
            rows.append(values[best].float())
        else:
            seed = _mixed_seed(*sorted(int(values[i]) for i in touched), class_id, instance_id)
            rows.append(seeded_vector(seed, 2 * noise_nc))
    per_instance = torch.stack(rows).view(1, layout.count, 2, noise_nc)
    oldest = values[0]
    base = oldest if isinstance(oldest, int) else _vector_seed(oldest)
    return per_instance, seeded_vector(_mixed_seed(base, GLOBAL_STREAM), z_dim)[None]
