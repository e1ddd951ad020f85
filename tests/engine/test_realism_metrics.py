"""Stripe share, per-class colour ΔE and the reference renders, on inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.landscapes.classes import GRASS, MOUNTAIN, SKY, TREE, WATER
from engine.data.landscapes.generate import render_scene
from engine.data.landscapes.restyle import REFERENCE_SEEDS, STYLES, layout_for_seed, layout_from_labels
from engine.metrics.colour import delta_e, nearest_delta_e
from engine.metrics.realism import reference_renders
from engine.metrics.stripes import axis_powers, axis_share, power_ratio, stripe_ratio


def _grey(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[..., None], 3, axis=2)


def test_vertical_and_horizontal_stripes_are_all_on_the_axes() -> None:
    x = np.arange(64)
    vertical = _grey(np.tile(128 + 100 * np.cos(2 * np.pi * 16 * x / 64), (64, 1)))
    assert axis_share(vertical) == pytest.approx(1.0, abs=1e-3)
    assert axis_share(vertical.transpose(1, 0, 2)) == pytest.approx(1.0, abs=1e-3)


def test_a_diagonal_pattern_and_noise_have_almost_nothing_on_the_axes() -> None:
    y, x = np.mgrid[:64, :64]
    diagonal = _grey(128 + 100 * np.cos(2 * np.pi * 12 * (x + y) / 64))
    assert axis_share(diagonal) < 1e-3
    noise = np.random.default_rng(0).uniform(0, 255, (64, 64))
    # White noise has the same expected power in every bin, times the high-pass gain
    # (1 − G(k))², G(k) = exp(−2π²σ²|k/N|²) the Gaussian's transfer function.
    k = np.fft.fftfreq(64)
    gain = (1 - np.exp(-2 * np.pi**2 * 4.0 * (k[:, None] ** 2 + k[None, :] ** 2))) ** 2
    axes = gain[np.abs(k * 64) >= 3, 0].sum() + gain[0, np.abs(k * 64) >= 3].sum()
    assert axis_share(noise) == pytest.approx(axes / gain.sum(), rel=0.2)


def test_stripes_added_to_noise_raise_the_share_and_the_ratio() -> None:
    rng = np.random.default_rng(1)
    real = [rng.uniform(0, 255, (64, 64, 3)) for _ in range(3)]
    stripes = _grey(np.tile(60 * np.cos(2 * np.pi * 8 * np.arange(64) / 64), (64, 1)))
    fake = [np.clip(r + stripes, 0, 255) for r in real]
    assert stripe_ratio(real, real) == pytest.approx(1.0)
    assert stripe_ratio(fake, real) > 3
    assert all(axis_share(f) > axis_share(r) for f, r in zip(fake, real))


def test_axis_and_detail_powers_by_hand() -> None:
    # A vertical cosine of amplitude 100 at 16 cycles per 64 px: mean square 100²/2, all on
    # the axes, times the high-pass gain (1 − G)², G the blur's response at that frequency:
    # OpenCV's 17-tap Gaussian (σ = 2), G = Σ kᵢ cos(2π·i·16/64).
    # Phase shifted by half a pixel, the cosine is mirror-symmetric about both borders, so
    # the blur's reflected borders continue it exactly.
    x = np.arange(64) + 0.5
    vertical = _grey(np.tile(128 + 100 * np.cos(2 * np.pi * 16 * x / 64), (64, 1)))
    on, off = axis_powers(vertical)
    taps = np.exp(-((np.arange(17) - 8) ** 2) / (2 * 2.0**2))
    response = float((taps / taps.sum() * np.cos(2 * np.pi * (np.arange(17) - 8) * 16 / 64)).sum())
    gain = (1 - response) ** 2
    assert on == pytest.approx(100**2 / 2 * gain, rel=1e-3) and off < 1e-6 * on
    # Half the contrast is a quarter of the power, on and off the axes alike.
    rng = np.random.default_rng(2)
    real = [rng.uniform(0, 255, (64, 64, 3)) for _ in range(3)]
    smooth = [128 + 0.5 * (r - 128) for r in real]
    ratios = [
        power_ratio([axis_powers(f)[i] for f in smooth], [axis_powers(r)[i] for r in real]) for i in (0, 1)
    ]
    assert ratios == pytest.approx([0.25, 0.25], rel=1e-6)
    # The stripe ratio of smooth images is 1 (no stripes, just less of everything).
    assert stripe_ratio(smooth, real) == pytest.approx(1.0)


def test_colour_distance_is_the_area_weighted_lab_distance() -> None:
    labels = np.zeros((8, 8), np.uint16)
    labels[:, 4:] = 1
    white = np.full((8, 8, 3), 255, np.uint8)
    half_black = white.copy()
    half_black[:, 4:] = 0
    # Class 1 (half the image) goes from L* 100 to L* 0; class 0 is the same.
    assert delta_e(half_black, white, labels, 2) == pytest.approx(50.0, abs=0.01)
    assert delta_e(white, white, labels, 2) == 0
    assert nearest_delta_e(half_black, [white, half_black], labels, 2) == 0


def test_classes_below_half_a_percent_do_not_count() -> None:
    labels = np.zeros((20, 20), np.uint16)
    labels[0, 0] = 1  # 1 of 400 pixels = 0.25 %
    image = np.full((20, 20, 3), 255, np.uint8)
    other = image.copy()
    other[0, 0] = 0
    assert delta_e(image, other, labels, 2) == 0


def test_the_reference_layout_of_a_rendered_scene_is_its_own() -> None:
    image, labels, instances = render_scene(7, 64, 64)
    layout = layout_for_seed(7, 64, 64)
    assert np.array_equal(layout.labels, labels)
    refs = reference_renders("land_00000007", labels, instances)
    assert len(refs) == len(STYLES) * REFERENCE_SEEDS == 144
    # The rendered image itself is one of the renderer's looks: near a reference (only the
    # sun azimuth and the material seed differ) and far from most of them.
    distances = [delta_e(image, r, labels, 13) for r in refs]
    assert min(distances) < 8 < np.median(distances)


def test_a_painted_map_gets_a_horizon_and_renders_in_every_style() -> None:
    labels = np.full((64, 64), SKY, np.uint16)
    labels[20:30] = MOUNTAIN
    labels[30:] = GRASS
    labels[45:, 10:40] = WATER
    labels[34:40, 50:54] = TREE
    layout = layout_from_labels(labels)
    assert layout.horizon == pytest.approx(30 / 64)
    assert layout.instances[36, 51] > 0 and layout.instances[50, 20] == 0
    refs = reference_renders(None, labels, None)
    noon, dusk = refs[0], refs[-REFERENCE_SEEDS]
    assert noon.shape == (64, 64, 3)
    assert delta_e(noon, dusk, labels, 13) > 10  # the styles really differ
