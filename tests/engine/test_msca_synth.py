"""MSCA inference (exemplars, blending, caching) and the style distances."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.landscapes.exemplars import render_exemplar
from engine.errors import InputError
from engine.inference.msca_synth import Exemplar, MscaSynthesizer, StyleMix
from engine.metrics.style import nn_pixel_distance, style_distances
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
