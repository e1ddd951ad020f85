"""The FID Inception network: pytorch-fid's key layout, loading checks, features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import WeightsError
from engine.metrics.inception import (
    FID_WEIGHTS_NAME,
    UNUSED_KEYS,
    FidFeatures,
    FidInceptionV3,
    avg_pool_valid,
    check_fid_state,
    load_fid_inception,
    prepare,
)


@pytest.fixture(scope="module")
def net() -> FidInceptionV3:
    return FidInceptionV3()


def _file_keys(net: FidInceptionV3) -> dict[str, tuple[int, ...]]:
    """Keys and shapes of the published file: the network's, plus the unused fc."""
    return {k: tuple(v.shape) for k, v in net.state_dict().items()} | UNUSED_KEYS


def test_key_layout_matches_the_pytorch_fid_file(net: FidInceptionV3) -> None:
    keys = _file_keys(net)
    counters = [k for k in keys if k.endswith("num_batches_tracked")]
    # 94 conv+BN units: conv.weight and 4 BN tensors (+ a counter) each, plus fc weight and bias.
    assert len(counters) == 94
    assert len(keys) - len(counters) == 94 * 5 + 2 == 472
    assert keys["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert keys["Conv2d_1a_3x3.bn.running_var"] == (32,)
    assert keys["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
    assert keys["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
    assert keys["Mixed_7b.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
    assert keys["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)
    assert keys["fc.weight"] == (1008, 2048)
    assert not any(k.startswith("AuxLogits") for k in keys)  # pytorch-fid builds without it
    assert {k.split(".")[0] for k in keys} == {
        *(f"Conv2d_{n}" for n in ("1a_3x3", "2a_3x3", "2b_3x3", "3b_1x1", "4a_3x3")),
        *(f"Mixed_{n}" for n in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c")),
        "fc",
    }
    # torchvision's Inception3 without AuxLogits and fc has exactly this many parameters.
    assert sum(p.numel() for p in net.parameters()) == 21_785_568
    assert all(m.eps == 0.001 for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_fid_pooling_variants(net: FidInceptionV3) -> None:
    # TF's average pool ignores the padding: a constant map stays constant at the border.
    torch.testing.assert_close(avg_pool_valid(torch.ones(1, 1, 5, 5)), torch.ones(1, 1, 5, 5))
    assert not net.Mixed_7b.max_pool_branch and net.Mixed_7c.max_pool_branch


def test_prepare_resizes_and_scales() -> None:
    images = np.zeros((2, 40, 60, 3), np.uint8)
    images[1] = 255
    x = prepare(images)
    assert x.shape == (2, 3, 299, 299)
    # Bilinear resizing of a constant image may round by an ulp, depending on thread count.
    assert float(x[0].max()) == pytest.approx(-1.0, abs=1e-6)
    assert float(x[1].min()) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        prepare(images.astype(np.float32))


def test_load_and_features(fid_inception_file: Path) -> None:
    saved = torch.load(fid_inception_file, weights_only=True)
    fid = FidFeatures(fid_inception_file, batch=2)
    torch.testing.assert_close(
        fid.net.Mixed_7c.branch_pool.bn.running_var, saved["Mixed_7c.branch_pool.bn.running_var"]
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
    feats = fid(images)
    assert feats.shape == (3, 2048) and feats.dtype == np.float64
    assert np.isfinite(feats).all() and (feats >= 0).all() and feats.std() > 0
    np.testing.assert_allclose(fid(images[:1]), feats[:1], rtol=1e-4, atol=1e-6)  # batching-independent
    assert fid_inception_file.name in fid.note and fid.sha256[:12] in fid.note
    assert "not the pytorch-fid release" in fid.note  # random weights are not the published file


def test_loads_without_fc_and_bn_counters(tmp_path: Path, net: FidInceptionV3) -> None:
    # Converters and pre-0.4.1 files omit the BatchNorm counters; fc is never used.
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, tmp_path / "lean.pth")
    loaded = load_fid_inception(tmp_path / "lean.pth")
    torch.testing.assert_close(loaded.Conv2d_1a_3x3.conv.weight, net.Conv2d_1a_3x3.conv.weight)


def test_missing_truncated_and_non_dict_files(tmp_path: Path, fid_inception_file: Path) -> None:
    missing = tmp_path / "nope.pth"
    with pytest.raises(WeightsError, match="not found") as err:
        load_fid_inception(missing)
    assert str(missing) in str(err.value) and FID_WEIGHTS_NAME in str(err.value)

    truncated = tmp_path / "truncated.pth"
    with fid_inception_file.open("rb") as src:
        truncated.write_bytes(src.read(2 << 20))  # the first 2 MB of ≈ 95
    with pytest.raises(WeightsError, match="truncated") as err:
        load_fid_inception(truncated)
    assert str(truncated) in str(err.value)

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="truncated, corrupt"):
        load_fid_inception(garbage)

    a_list = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], a_list)
    with pytest.raises(WeightsError, match="not a state dict") as err:
        load_fid_inception(a_list)
    assert str(a_list) in str(err.value)


def test_foreign_state_dicts_are_rejected(net: FidInceptionV3) -> None:
    source = Path("weights/other.pth")
    with pytest.raises(WeightsError, match="missing keys") as err:
        check_fid_state(net, {"weight": torch.zeros(3)}, source)
    assert "other.pth" in str(err.value) and FID_WEIGHTS_NAME in str(err.value)

    # torchvision's ImageNet Inception: same blocks, but an aux classifier and 1000 classes.
    state = dict(net.state_dict())
    state["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    with pytest.raises(WeightsError) as err:
        check_fid_state(net, state, source)
    message = str(err.value)
    assert "AuxLogits.fc.weight" in message and "fc.weight: shape [1000, 2048]" in message
    assert "torchvision" in message

    state = dict(net.state_dict())
    state["Mixed_6b.branch1x1.conv.weight"] = torch.zeros(192, 768, 3, 3)
    with pytest.raises(WeightsError, match=r"Mixed_6b.branch1x1.conv.weight: shape \[192, 768, 3, 3\]"):
        check_fid_state(net, state, source)
