"""NoiseField: seeded determinism, local resampling, compaction and saved state."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.noise import MAX_SEED, NoiseField, random_seed, seeded_vector


def left_half(h: int = 4, w: int = 6) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[:, : w // 2] = True
    return mask


def test_seed_determinism() -> None:
    a = NoiseField.uniform(4, 6, seed=123).to_tensor()
    b = NoiseField.uniform(4, 6, seed=123).to_tensor()
    c = NoiseField.uniform(4, 6, seed=124).to_tensor()
    assert a.shape == (64, 4, 6) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    expected = torch.randn(64, generator=torch.Generator().manual_seed(123))
    assert torch.equal(a[:, 2, 3], expected)
    assert torch.equal(seeded_vector(MAX_SEED, 8), seeded_vector(MAX_SEED, 8))


def test_from_vector_and_dtype() -> None:
    field = NoiseField.from_vector(2, 3, [0.5, -1.0, 2.0])
    assert field.z_dim == 3
    tensor = field.to_tensor(dtype=torch.float64)
    assert tensor.dtype == torch.float64
    assert torch.equal(tensor[:, 1, 2], torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))


def test_resample_changes_exactly_the_mask() -> None:
    field = NoiseField.uniform(4, 6, seed=1, z_dim=16)
    before = field.to_tensor()
    mask = np.zeros((4, 6), bool)
    mask[1:3, 2:5] = True
    region = field.resample(mask, seed=2)
    after = field.to_tensor()
    inside = torch.from_numpy(mask)
    assert torch.equal(after[:, ~inside], before[:, ~inside])
    assert not torch.equal(after[:, inside][:, 0], before[:, inside][:, 0])
    assert torch.equal(after[:, inside], seeded_vector(2, 16)[:, None].expand(16, int(mask.sum())))
    assert field.region_ids == [0, region]
    assert np.array_equal(field.region_map == region, mask)


def test_set_vector_and_vectors() -> None:
    field = NoiseField.uniform(4, 6, seed=1, z_dim=4)
    region = field.set_vector(left_half(), [1.0, 2.0, 3.0, 4.0])
    vectors = field.vectors()
    assert set(vectors) == {0, region}
    assert torch.equal(vectors[region], torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert torch.equal(field.to_tensor()[:, 0, 0], vectors[region])
    with pytest.raises(InputError, match="expected 4 values"):
        field.set_vector(left_half(), [1.0, 2.0])
    with pytest.raises(InputError, match="boolean"):
        field.resample(left_half().astype(np.uint8), seed=3)


def test_unused_regions_are_dropped() -> None:
    field = NoiseField.uniform(4, 6, seed=1)
    first = field.resample(left_half(), seed=2)
    second = field.resample(left_half(), seed=3)  # covers `first` entirely
    assert first not in field.region_ids
    assert field.region_ids == [0, second]
    field.resample(np.ones((4, 6), bool), seed=4)  # covers everything
    assert len(field.region_ids) == 1
    field.resample_all(5)
    assert field.region_ids == [0]
    assert field == NoiseField.uniform(4, 6, seed=5)


def test_resized_is_nearest() -> None:
    field = NoiseField.uniform(4, 6, seed=1, z_dim=8)
    field.resample(left_half(), seed=2)
    big = field.resized(8, 12)
    assert big.size == (8, 12)
    assert torch.equal(big.to_tensor()[:, ::2, ::2], field.to_tensor())
    tiny = field.resized(1, 1)  # the right-hand region disappears and is dropped
    assert len(tiny.region_ids) == 1


def test_state_round_trip_through_json_and_npy() -> None:
    field = NoiseField.uniform(5, 7, seed=random_seed(np.random.default_rng(0)), z_dim=8)
    field.resample(np.eye(5, 7, dtype=bool), seed=MAX_SEED)
    field.set_vector(np.eye(5, 7, k=2, dtype=bool), np.random.default_rng(1).standard_normal(8))
    region_map, meta = field.to_state()
    assert region_map.dtype == np.int32 and meta["version"] == 1 and meta["z_dim"] == 8

    buffer = io.BytesIO()
    np.save(buffer, region_map)
    buffer.seek(0)
    reopened = NoiseField.from_state(np.load(buffer), json.loads(json.dumps(meta)))
    assert reopened == field
    assert torch.equal(reopened.to_tensor(), field.to_tensor())


def test_from_state_errors() -> None:
    region_map, meta = NoiseField.uniform(2, 2, seed=1, z_dim=4).to_state()
    with pytest.raises(InputError, match="version"):
        NoiseField.from_state(region_map, {**meta, "version": 2})
    with pytest.raises(InputError, match=r"ids 3 are used"):
        NoiseField.from_state(np.full((2, 2), 3, np.int32), meta, source="scene.json")
    with pytest.raises(InputError, match="expected 4 values"):
        NoiseField.from_state(region_map, {**meta, "regions": {"0": {"vector": [1.0, 2.0]}}})
    with pytest.raises(InputError, match="seed"):
        NoiseField.from_state(region_map, {**meta, "regions": {"0": {"seed": -1}}})
    with pytest.raises(InputError, match="seed"):
        NoiseField.from_state(region_map, {**meta, "regions": {"0": {"seed": 1.5}}})
    with pytest.raises(InputError, match=r"scene\.json"):
        NoiseField.from_state(region_map, {**meta, "regions": {"0": {}}}, source="scene.json")


def test_random_seed_range() -> None:
    rng = np.random.default_rng(7)
    seeds = [random_seed(rng) for _ in range(100)]
    assert all(isinstance(s, int) and 0 <= s <= MAX_SEED for s in seeds)
    assert random_seed(np.random.default_rng(7)) == seeds[0]
