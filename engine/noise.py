"""OASIS 3D noise, stored as regions of seeded (or explicit) vectors.

The OASIS generator takes a ``z_dim``-channel noise field the size of the label map
(64 channels in the paper). Storing that field as floats would cost 64 floats per
pixel in every saved document, and a float dump says nothing about how it was made.
Here it is kept compactly: a region-id map (H×W ``int32``) plus, for each region,
either an integer seed or an explicit vector. A seed ``s`` stands for the vector
``torch.randn(z_dim, generator=torch.Generator().manual_seed(s))`` — drawn on the CPU
in float32, so it is the same on every machine, and a document that is saved and
reopened reproduces its image bit for bit.

Editing the noise is editing regions: a global resample makes one region everywhere
with a new seed; a local resample (one class, one instance, a brushed area) gives the
masked pixels a new region with its own seed, leaving every other pixel's vector
untouched. Regions that no pixel uses any more are dropped, so the state stays as
small as the edit history allows. :meth:`NoiseField.to_tensor` expands it into the
(z_dim, H, W) tensor the network wants with one gather.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from engine.errors import InputError

FORMAT_VERSION = 1
"""Version of the dictionary written by :meth:`NoiseField.to_state`."""

DEFAULT_Z_DIM = 64
"""Noise channels of the OASIS generator."""

MAX_SEED = 2**63 - 1
"""Seeds are Python ints in 0..MAX_SEED (they fit a signed 64-bit integer in any JSON reader)."""

Vector = torch.Tensor | Sequence[float] | np.ndarray


def random_seed(rng: np.random.Generator | None = None) -> int:
    """A fresh seed in 0..MAX_SEED, from ``rng`` or from system entropy."""
    rng = np.random.default_rng() if rng is None else rng
    return int(rng.integers(0, MAX_SEED, endpoint=True, dtype=np.int64))


def seeded_vector(seed: int, z_dim: int = DEFAULT_Z_DIM) -> torch.Tensor:
    """The float32 CPU vector a seed stands for."""
    generator = torch.Generator(device="cpu").manual_seed(_check_seed(seed, "seed"))
    return torch.randn(z_dim, generator=generator, dtype=torch.float32)


def _check_seed(seed: object, source: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise InputError(
            f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}",
            source=source,
            fix="use random_seed() or a non-negative integer below 2**63",
        )
    return int(seed)


def _check_vector(vector: object, z_dim: int | None, source: str) -> torch.Tensor:
    try:
        tensor = torch.as_tensor(vector, dtype=torch.float32).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as error:
        raise InputError(
            f"noise vector is not a list of numbers ({error})", source=source, fix="give a list of floats"
        ) from None
    if tensor.ndim != 1 or (z_dim is not None and tensor.numel() != z_dim):
        expected = f"{z_dim} values" if z_dim is not None else "a 1-D vector"
        raise InputError(
            f"noise vector has shape {tuple(tensor.shape)}, expected {expected}",
            source=source,
            fix="give one value per noise channel",
        )
    if tensor.numel() == 0 or not bool(torch.isfinite(tensor).all()):
        raise InputError("noise vector is empty or holds NaN/inf", source=source, fix="give finite floats")
    return tensor.clone().contiguous()


def _check_size(h: int, w: int) -> None:
    if h <= 0 or w <= 0:
        raise InputError(f"noise size must be positive, got {h}×{w}", fix="use a height and width ≥ 1")


class NoiseField:
    """A region-id map plus one seed or explicit vector per region.

    ``regions`` maps every region id used in ``region_map`` to a seed (``int``) or a
    vector (``z_dim`` floats). Ids that no pixel uses are dropped.
    """

    def __init__(
        self,
        region_map: np.ndarray,
        regions: Mapping[int, int | Vector],
        *,
        z_dim: int = DEFAULT_Z_DIM,
        source: str = "noise",
    ) -> None:
        if isinstance(z_dim, bool) or not isinstance(z_dim, int) or z_dim <= 0:
            raise InputError(f"z_dim must be a positive integer, got {z_dim!r}", source=source)
        region_map = np.asarray(region_map)
        if region_map.ndim != 2 or region_map.dtype.kind not in "iu" or 0 in region_map.shape:
            raise InputError(
                f"noise region map must be a non-empty 2-D integer array, got {region_map.dtype} "
                f"of shape {region_map.shape}",
                source=source,
            )
        if region_map.size and (region_map.min() < 0 or region_map.max() > np.iinfo(np.int32).max):
            raise InputError("noise region ids must be in 0..2**31-1", source=source)
        self.z_dim = z_dim
        self._map = region_map.astype(np.int32)  # always a private copy
        self._regions: dict[int, int | torch.Tensor] = {}
        for key, value in regions.items():
            where = f"{source} region {key}"
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                self._regions[int(key)] = _check_seed(value, where)
            else:
                self._regions[int(key)] = _check_vector(value, z_dim, where)
        missing = sorted(set(np.unique(self._map).tolist()) - set(self._regions))
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise InputError(
                f"noise region ids {shown} are used in the region map but have no seed or vector",
                source=source,
                fix="the file is damaged; resample the noise to start afresh",
            )
        self._compact()

    # ------------------------------------------------------------------ builders

    @classmethod
    def uniform(cls, h: int, w: int, seed: int, z_dim: int = DEFAULT_Z_DIM) -> NoiseField:
        """One seeded vector everywhere."""
        _check_size(h, w)
        return cls(np.zeros((h, w), np.int32), {0: seed}, z_dim=z_dim)

    @classmethod
    def from_vector(cls, h: int, w: int, vector: Vector) -> NoiseField:
        """One explicit vector everywhere; ``z_dim`` is its length."""
        _check_size(h, w)
        tensor = _check_vector(vector, None, "vector")
        return cls(np.zeros((h, w), np.int32), {0: tensor}, z_dim=tensor.numel())

    def copy(self) -> NoiseField:
        return NoiseField(self._map, self._regions, z_dim=self.z_dim)

    # ------------------------------------------------------------------ queries

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        h, w = self._map.shape
        return h, w

    @property
    def height(self) -> int:
        return int(self._map.shape[0])

    @property
    def width(self) -> int:
        return int(self._map.shape[1])

    @property
    def region_map(self) -> np.ndarray:
        """Read-only view of the H×W ``int32`` region ids."""
        view = self._map.view()
        view.flags.writeable = False
        return view

    @property
    def region_ids(self) -> list[int]:
        return sorted(self._regions)

    def global_vector(self) -> torch.Tensor:
        """The vector of the oldest region, which only a re-roll of everything replaces: the
        one style of models with a global z (SPADE use_vae, ugen)."""
        return self._vector(self.region_ids[0])

    def vectors(self) -> dict[int, torch.Tensor]:
        """Each region's float32 CPU vector (seeds expanded)."""
        return {key: self._vector(key) for key in sorted(self._regions)}

    def region_value(self, key: int) -> int | torch.Tensor:
        """Region ``key``'s seed, or a copy of its explicit vector."""
        value = self._regions[key]
        return value if isinstance(value, int) else value.clone()

    def to_tensor(
        self, *, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
    ) -> torch.Tensor:
        """The full (z_dim, H, W) noise field."""
        ids = np.array(sorted(self._regions), np.int32)
        table = torch.stack([self._vector(int(key)) for key in ids]).to(device=device, dtype=dtype)
        index = torch.from_numpy(np.searchsorted(ids, self._map).astype(np.int64)).to(device)
        return table[index].permute(2, 0, 1).contiguous()  # (H, W, z) → (z, H, W)

    # ------------------------------------------------------------------ edits

    def resample_all(self, seed: int) -> None:
        """Replace the whole field with one region carrying ``seed``."""
        seed = _check_seed(seed, "seed")
        self._map = np.zeros(self._map.shape, np.int32)
        self._regions = {0: seed}

    def resample(self, mask: np.ndarray, seed: int) -> int:
        """Give the pixels in ``mask`` a new region with ``seed``; return its id.

        Pixels outside the mask keep their vectors exactly. An empty mask changes
        nothing (the returned id is then not kept).
        """
        return self._assign(mask, _check_seed(seed, "seed"))

    def set_vector(self, mask: np.ndarray, vector: Vector) -> int:
        """Give the pixels in ``mask`` a new region with an explicit vector; return its id."""
        return self._assign(mask, _check_vector(vector, self.z_dim, "vector"))

    def resized(self, h: int, w: int) -> NoiseField:
        """The field at another canvas size (nearest neighbour, so vectors are kept exactly)."""
        _check_size(h, w)
        old_h, old_w = self.size
        rows = np.minimum(np.arange(h) * old_h // h, old_h - 1)
        cols = np.minimum(np.arange(w) * old_w // w, old_w - 1)
        return NoiseField(self._map[rows[:, None], cols[None, :]], self._regions, z_dim=self.z_dim)

    # ------------------------------------------------------------------ state

    def to_state(self) -> tuple[np.ndarray, dict[str, Any]]:
        """The region map and a JSON-able description of the regions."""
        regions: dict[str, dict[str, Any]] = {}
        for key in sorted(self._regions):
            value = self._regions[key]
            if isinstance(value, int):
                regions[str(key)] = {"seed": value}
            else:
                regions[str(key)] = {"vector": [float(v) for v in value.tolist()]}
        meta = {"version": FORMAT_VERSION, "z_dim": self.z_dim, "regions": regions}
        return self._map.copy(), meta

    @classmethod
    def from_state(
        cls, region_map: np.ndarray, meta: Mapping[str, Any], *, source: str = "noise"
    ) -> NoiseField:
        """Rebuild a field written by :meth:`to_state`; ``source`` names the file in errors."""
        if not isinstance(meta, Mapping):
            raise InputError(f"noise description must be an object, got {type(meta).__name__}", source=source)
        version = meta.get("version")
        if version != FORMAT_VERSION:
            raise InputError(
                f"noise format version {version!r} is not supported (this Tessera reads {FORMAT_VERSION})",
                source=source,
                fix="open the file with the Tessera version that wrote it, or update Tessera",
            )
        regions_in = meta.get("regions")
        if not isinstance(regions_in, Mapping):
            raise InputError("noise description has no 'regions' object", source=source)
        regions: dict[int, int | Vector] = {}
        for key, entry in regions_in.items():
            try:
                region_id = int(key)
            except (TypeError, ValueError):
                raise InputError(f"noise region id {key!r} is not an integer", source=source) from None
            if not isinstance(entry, Mapping) or len(entry) != 1 or not ({"seed", "vector"} & set(entry)):
                raise InputError(
                    f"noise region {key} must be {{'seed': int}} or {{'vector': [floats]}}, got {entry!r}",
                    source=source,
                )
            if "seed" in entry:
                regions[region_id] = _check_seed(entry["seed"], f"{source} region {key}")
            else:
                vector = entry["vector"]
                if not isinstance(vector, (list, tuple)) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in vector
                ):
                    raise InputError(
                        f"noise region {key} vector must be a list of finite numbers", source=source
                    )
                regions[region_id] = vector
        return cls(region_map, regions, z_dim=meta.get("z_dim"), source=source)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoiseField):
            return NotImplemented
        (map_a, meta_a), (map_b, meta_b) = self.to_state(), other.to_state()
        return meta_a == meta_b and np.array_equal(map_a, map_b)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        h, w = self.size
        return f"NoiseField({h}×{w}, z_dim={self.z_dim}, regions={len(self._regions)})"

    # ------------------------------------------------------------------ internals

    def _vector(self, key: int) -> torch.Tensor:
        value = self._regions[key]
        return seeded_vector(value, self.z_dim) if isinstance(value, int) else value.clone()

    def _assign(self, mask: np.ndarray, value: int | torch.Tensor) -> int:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != self._map.shape:
            raise InputError(
                f"noise mask must be a boolean {self.size[0]}×{self.size[1]} array, "
                f"got {mask.dtype} of shape {mask.shape}",
                source="mask",
                fix="pass a mask the size of the canvas",
            )
        region_id = max(self._regions) + 1
        if region_id > np.iinfo(np.int32).max:  # ids only grow; renumber once in a blue moon
            self._renumber()
            region_id = max(self._regions) + 1
        self._map[mask] = region_id
        self._regions[region_id] = value
        self._compact()
        return region_id

    def _compact(self) -> None:
        """Drop regions that no pixel uses."""
        used = set(np.unique(self._map).tolist())
        self._regions = {key: value for key, value in self._regions.items() if key in used}

    def _renumber(self) -> None:
        ids = np.array(sorted(self._regions), np.int32)
        self._map = np.searchsorted(ids, self._map).astype(np.int32)
        self._regions = {new: self._regions[int(old)] for new, old in enumerate(ids)}
