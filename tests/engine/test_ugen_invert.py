"""Style from a photo for ugen (``invert_photo``) on a tiny random ugen folder: an image the
model made from a known w is recovered; progress and cancelling; painting with the result
(``set_style_w``); the photo's proxy mask; bad photos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import InputError
from engine.inference.ugen_invert import InvertedStyle, invert_photo
from engine.inference.ugen_synth import UgenSynthesizer
from engine.noise import NoiseField
from tests.helpers import tiny_scene
from tests.ugen_helpers import PROXY, SIDE, write_tiny_ugen

STEPS = 40


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> UgenSynthesizer:
    return UgenSynthesizer.from_folder(write_tiny_ugen(tmp_path_factory.mktemp("ugen")))


@pytest.fixture(scope="module")
def target(synth: UgenSynthesizer) -> np.ndarray:
    """An image the model itself makes from a known w: one the inversion can reach."""
    z = torch.randn(1, synth.z_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        w = synth.generator.mapping(z)[0, 0]
    return synth.image_of_w(w)


@pytest.fixture(scope="module")
def inverted(synth: UgenSynthesizer, target: np.ndarray) -> tuple[InvertedStyle, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    return invert_photo(synth, target, steps=STEPS, progress=lambda i, n: calls.append((i, n))), calls


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b).mean())


def _noise(seed: int = 0) -> NoiseField:
    return NoiseField.uniform(SIDE, SIDE, seed=seed, z_dim=32)


def test_recovers_an_image_of_the_model(
    synth: UgenSynthesizer, target: np.ndarray, inverted: tuple[InvertedStyle, list]
) -> None:
    style, calls = inverted
    assert style.loss < 0.5 * style.start_loss
    start = synth.image_of_w(torch.from_numpy(_w_avg(synth)))
    assert _distance(style.image, target) < 0.8 * _distance(start, target)
    assert np.array_equal(style.image, synth.image_of_w(style.w))
    assert calls == [(i, STEPS) for i in range(1, STEPS + 1)]
    assert (style.steps_done, style.steps, style.cancelled) == (STEPS, STEPS, False)
    assert style.w.shape == (synth.w_dim,) and style.w.dtype == np.float32
    assert style.image.shape == style.target.shape == (SIDE, SIDE, 3)
    assert np.array_equal(style.target, target)  # already the model's size: used as is
    assert style.proxy.shape == (PROXY, PROXY) and np.array_equal(style.proxy, synth.proxy_of_w(style.w))


def _w_avg(synth: UgenSynthesizer) -> np.ndarray:
    """The w a run starts from: zero steps return it."""
    return invert_photo(synth, np.zeros((SIDE, SIDE, 3), np.uint8), steps=0).w


def test_cancel_returns_the_best_so_far(synth: UgenSynthesizer, target: np.ndarray) -> None:
    calls: list[int] = []
    style = invert_photo(
        synth, target, steps=STEPS, progress=lambda i, n: calls.append(i), cancelled=lambda: len(calls) >= 3
    )
    assert (style.steps_done, style.cancelled, calls) == (3, True, [1, 2, 3])
    assert style.loss <= style.start_loss
    at_once = invert_photo(synth, target, steps=STEPS, cancelled=lambda: True)
    assert (at_once.steps_done, at_once.cancelled) == (0, True)
    assert at_once.loss == at_once.start_loss  # nothing tried: the mean w


def test_painting_with_the_inverted_style(
    synth: UgenSynthesizer, target: np.ndarray, inverted: tuple[InvertedStyle, list]
) -> None:
    style, _ = inverted
    labels, _ = tiny_scene(2)
    plain = UgenSynthesizer.from_folder(synth.weights.folder)
    plain.fast = False
    try:
        default = synth.generate(labels, _noise())
        synth.set_style_w(style.w)
        painted = synth.generate(labels, _noise())
        assert _distance(painted, default) > 1  # the photo's style, not z's
        assert np.array_equal(synth.generate(labels, _noise(5)), painted)  # the noise's z is ignored
        plain.set_style_w(style.w)
        assert np.abs(plain.generate(labels, _noise()).astype(int) - painted).max() <= 1
        again = invert_photo(synth, target, steps=STEPS)  # the same run gives the same w
        assert np.array_equal(again.w, style.w)
        # The exemplar's own layout: its proxy mask, rendered with its rearranged features.
        own = synth.generate_proxy(style.proxy, _noise())
        assert own.shape == (SIDE, SIDE, 3) and np.array_equal(synth.last_proxy, style.proxy)
        assert torch.equal(synth.style_w, torch.from_numpy(style.w))
        synth.set_style_w(None)
        assert synth.style_w is None and np.array_equal(synth.generate(labels, _noise()), default)
    finally:
        synth.set_style_w(None)


def test_any_photo_size_is_cropped_and_resized(synth: UgenSynthesizer) -> None:
    photo = np.zeros((90, 150, 3), np.uint8)
    photo[:, 30:120] = 200  # the central square: a flat light image
    style = invert_photo(synth, photo, steps=1)
    assert style.target.shape == (SIDE, SIDE, 3) and style.target.min() == 200


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (np.zeros((SIDE, SIDE, 3), np.float32), "H×W×3 uint8"),
        (np.zeros((SIDE, SIDE), np.uint8), "H×W×3 uint8"),
        (np.zeros((SIDE, SIDE, 4), np.uint8), "H×W×3 uint8"),
        (np.zeros((20, 300, 3), np.uint8), "too small"),
    ],
)
def test_bad_photos_name_the_photo_and_the_fix(
    synth: UgenSynthesizer, photo: np.ndarray, message: str
) -> None:
    with pytest.raises(InputError, match=message) as err:
        invert_photo(synth, photo, source="holiday.jpg")
    assert "holiday.jpg" in str(err.value) and "Fix:" in str(err.value)


def test_bad_w_and_steps(synth: UgenSynthesizer) -> None:
    with pytest.raises(InputError, match="steps"):
        invert_photo(synth, np.zeros((SIDE, SIDE, 3), np.uint8), steps=-1)
    with pytest.raises(InputError, match=f"{synth.w_dim} finite numbers"):
        synth.set_style_w(np.zeros(5))
    with pytest.raises(InputError, match="finite"):
        synth.image_of_w(np.full(synth.w_dim, np.nan))
    assert synth.style_w is None
