"""MSCA inference (exemplars, blending, caching) and the style distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.landscapes.exemplars import render_exemplar
from engine.errors import InputError
from engine.inference.msca_synth import Exemplar, MscaSynthesizer, StyleMix
from engine.labels import read_label_png
from engine.metrics.style import class_colour_distance, nn_pixel_distance, style_distances
from engine.metrics.style_showcase import left_to_right
from engine.networks.segmenter import Segmenter, SegmenterConfig
from tests.helpers import write_tiny_msca


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> MscaSynthesizer:
    return MscaSynthesizer.from_folder(write_tiny_msca(tmp_path_factory.mktemp("w") / "tiny-msca"))


def _exemplar(name: str) -> Exemplar:
    image, labels, _ = render_exemplar(name, (64, 64))
    return Exemplar(image, labels, name)


def test_exemplars_style_the_painting_and_are_encoded_once(synth: MscaSynthesizer) -> None:
    labels = _exemplar("noon").labels
    noon, sunset = _exemplar("noon"), _exemplar("sunset")
    a = synth.generate(labels, StyleMix(noon))
    b = synth.generate(labels, StyleMix(sunset))
    assert a.shape == (64, 64, 3) and np.abs(a.astype(int) - b.astype(int)).mean() > 0
    assert len(synth._cache) == 2
    again = _exemplar("noon")  # equal content → same cache entry
    assert again.key == noon.key
    synth.generate(labels, StyleMix(again))
    assert len(synth._cache) == 2

    # Blends: the ends are the single exemplars (≤ 1 grey level of rounding); a map blends.
    def same(x: np.ndarray, y: np.ndarray) -> bool:
        return int(np.abs(x.astype(int) - y.astype(int)).max()) <= 1

    assert same(synth.generate(labels, StyleMix(noon, sunset, 1.0)), a)
    assert same(synth.generate(labels, StyleMix(noon, sunset, 0.0)), b)
    assert same(synth.generate(labels, StyleMix(noon, sunset, np.ones((64, 64)))), a)
    with pytest.raises(InputError, match="blend map"):
        synth.generate(labels, StyleMix(noon, sunset, np.ones((32, 32))))


def test_bad_inputs(synth: MscaSynthesizer) -> None:
    noon = _exemplar("noon")
    with pytest.raises(InputError, match="multiples of 8"):
        synth.generate(noon.labels[:60], StyleMix(noon))
    with pytest.raises(InputError, match="do not match"):
        Exemplar(noon.image[:32], noon.labels, "half")
    odd = Exemplar(noon.image[:60, :52], noon.labels[:60, :52], "odd size")  # resized to fit, not refused
    assert synth.generate(noon.labels, StyleMix(odd)).shape == (64, 64, 3)


def test_style_distances_rank_the_closer_style() -> None:
    noon, _, _ = render_exemplar("noon", (64, 64))
    sunset, _, _ = render_exemplar("sunset", (64, 64))
    net = Segmenter(SegmenterConfig(13, widths=(8, 16))).eval()
    assert nn_pixel_distance(noon, noon) == pytest.approx(0, abs=1e-6)
    same = style_distances(net, noon, noon)
    assert same["style_gram"] == 0 and same["nn_feature"] == pytest.approx(0, abs=1e-6)
    shifted = np.roll(noon, 7, axis=1)  # same style, other places
    near, far = style_distances(net, shifted, noon), style_distances(net, sunset, noon)
    assert all(near[k] < far[k] for k in ("style_gram", "nn_pixel"))


def test_class_colour_distance_compares_matching_classes() -> None:
    noon, labels, _ = render_exemplar("noon", (64, 64))
    sunset, _, _ = render_exemplar("sunset", (64, 64))
    assert class_colour_distance(noon, labels, noon, labels) == pytest.approx(0, abs=1e-9)
    far = class_colour_distance(sunset, labels, noon, labels)
    assert far is not None and far > 0.05
    # A flat image of the exemplar's mean colour per class is as close as it gets.
    flat = noon.copy()
    for c in np.unique(labels):
        flat[labels == c] = noon[labels == c].mean(0)
    assert class_colour_distance(flat, labels, noon, labels) < 0.01
    assert class_colour_distance(noon, np.zeros_like(labels), noon, np.ones_like(labels)) is None


def test_style_sheet_shows_two_styles_and_both_blends(tmp_path: Path, synth: MscaSynthesizer) -> None:
    from engine.metrics.showcase import SCENES
    from engine.train.cli import main

    out = tmp_path / "sheet.jpg"
    scene = SCENES / "lake_shore.png"
    assert (
        main(["samples", "--weights", str(synth.weights.folder), "--out", str(out), "--scenes", str(scene)])
        == 0
    )
    sheet = np.asarray(Image.open(out))
    h, w = read_label_png(scene, synth.spec.label_set).shape
    assert sheet.shape == (2 * h, 5 * w, 3)  # the exemplars' row and one scene; five columns
    header = sheet[:h].astype(int)
    assert np.abs(header[: h - 8, : w - 8] - 255).max() < 8  # blank above the label map (JPEG edges aside)
    assert header[:, w : 3 * w].std() > 10  # the two exemplars


def test_left_to_right_blend_map() -> None:
    m = left_to_right(4, 9)
    assert m.shape == (4, 9) and m[:, 0].min() == 1 and m[:, -1].max() == 0
    assert np.all(np.diff(m[0]) <= 0)


def test_bf16_and_auto_stay_close_to_fp32(synth: MscaSynthesizer) -> None:
    noon, sunset = _exemplar("noon"), _exemplar("sunset")
    labels = noon.labels
    reference = synth.generate(labels, StyleMix(noon, sunset, 0.3)).astype(int)
    for backend in ("bf16", "auto"):
        other = MscaSynthesizer(synth.weights, backend=backend)
        image = other.generate(labels, StyleMix(noon, sunset, 0.3)).astype(int)
        assert np.abs(image - reference).max() <= 8  # 0.03 of the [-1, 1] range is ~4 grey levels
        assert other.backend_name in ("torch-eager fp32", "torch bf16 autocast")
    assert MscaSynthesizer(synth.weights, backend="bf16").backend_name == "torch bf16 autocast"
    with pytest.raises(InputError, match="unknown backend"):
        MscaSynthesizer(synth.weights, backend="onnx")
