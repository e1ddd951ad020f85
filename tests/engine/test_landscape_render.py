"""The landscapes material renderer: determinism, shapes, style factors, recoverable labels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.data.landscapes.canvas import Layout
from engine.data.landscapes.classes import (
    BUSH,
    CLOUD,
    DIRT,
    FLOWERS,
    GRASS,
    HILL,
    MOUNTAIN,
    NUM_CLASSES,
    ROCK,
    SAND,
    SKY,
    SNOW,
    TREE,
    WATER,
)
from engine.data.landscapes.layouts import make_layout
from engine.data.landscapes.render import SEASONS, TIMES_OF_DAY, WEATHERS, Style, render


def _scene(h: int, w: int) -> Layout:
    """A hand-drawn layout holding every class: sky with clouds, a snowy ridge, a hill, a lake
    with a beach, a meadow with flowers, a path, trees, a bush and a boulder."""
    labels = np.full((h, w), SKY, np.uint16)
    instances = np.zeros((h, w), np.int32)
    height = np.zeros((h, w), np.float32)
    hr = int(0.45 * h)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = (1.0 - (np.clip(ys - hr, 0, None) / (h - hr)) ** 0.8).astype(np.float32)

    def put(mask: np.ndarray, cls: int, inst: int = 0, d: float | None = None) -> None:
        labels[mask] = cls
        instances[mask] = inst
        if d is not None:
            depth[mask] = d

    ridge = hr - (0.28 * h) * (0.6 + 0.4 * np.sin(xs / w * 7.0)) * (0.7 + 0.3 * np.cos(xs / w * 17.0))
    mountain = (ys >= ridge) & (ys < hr)
    put(mountain, MOUNTAIN, 1, 0.95)
    height[mountain] = np.clip((hr - ys[mountain]) / (0.3 * h), 0, 1)
    put(mountain & (ys < ridge + 0.06 * h), SNOW, 0, 0.95)
    hill = (ys >= hr - 0.05 * h * (1 + np.sin(xs / w * 4))) & (ys < hr + 0.04 * h)
    put(hill, HILL, 0, 0.75)
    height[hill] = 0.3
    put(ys >= hr + 0.04 * h, GRASS)
    canvas = np.zeros((h, w), np.uint8)
    cv2.ellipse(canvas, (w // 3, int(hr + 0.14 * h)), (w // 4 + 2, int(0.08 * h) + 2), 0, 0, 360, 1, -1)
    cv2.ellipse(canvas, (w // 3, int(hr + 0.14 * h)), (w // 4, int(0.08 * h)), 0, 0, 360, 2, -1)
    put(canvas == 1, SAND)
    put(canvas == 2, WATER)
    canvas[:] = 0
    cv2.ellipse(canvas, (int(0.75 * w), int(0.85 * h)), (w // 5, h // 10), 0, 0, 360, 1, -1)
    put(canvas == 1, FLOWERS)
    path = np.abs(xs - 0.55 * w) < (ys - hr) / (h - hr) * 0.12 * w
    put(path & (ys > hr + 0.3 * h), DIRT)
    for i, (cx, cy, r) in enumerate(((0.12, 0.2, 0.08), (0.5, 0.12, 0.06), (0.8, 0.25, 0.07))):
        canvas[:] = 0
        cv2.ellipse(canvas, (int(cx * w), int(cy * h)), (int(r * w * 2), int(r * h)), 0, 0, 360, 1, -1)
        put((canvas == 1) & (ys < ridge), CLOUD, 10 + i, 0.97)
    for i, (cx, cy, r) in enumerate(((0.08, 0.62, 0.06), (0.9, 0.6, 0.05), (0.2, 0.8, 0.1))):
        canvas[:] = 0
        cv2.circle(canvas, (int(cx * w), int(cy * h)), max(int(r * h), 2), 1, -1)
        put(canvas == 1, TREE, 20 + i, 0.55)
    canvas[:] = 0
    cv2.ellipse(canvas, (int(0.4 * w), int(0.93 * h)), (w // 12 + 1, h // 16 + 1), 0, 180, 360, 1, -1)
    put(canvas == 1, BUSH, 30, 0.2)
    canvas[:] = 0
    cv2.ellipse(canvas, (int(0.62 * w), int(0.7 * h)), (w // 14 + 1, h // 18 + 1), 0, 180, 360, 1, -1)
    put(canvas == 1, ROCK, 31, 0.4)
    return Layout(labels, instances, depth, height, hr / h, "natural")


def _mean(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return img[mask].astype(np.float64).mean(axis=0)


def test_scene_holds_every_class() -> None:
    assert set(np.unique(_scene(96, 128).labels)) == set(range(NUM_CLASSES))


def test_same_seed_same_image_other_seed_other_image() -> None:
    layout, style = _scene(64, 96), Style("golden", "autumn", "hazy", -0.4)
    before = [a.copy() for a in (layout.labels, layout.instances, layout.depth, layout.height)]
    a = render(layout, style, np.random.default_rng(3))
    b = render(layout, style, np.random.default_rng(3))
    c = render(layout, style, np.random.default_rng(4))
    assert np.array_equal(a, b)
    for old, new in zip(before, (layout.labels, layout.instances, layout.depth, layout.height)):
        assert np.array_equal(old, new)  # the layout is left as it was
    assert np.abs(a.astype(int) - c).mean() > 1.0


@pytest.mark.parametrize("size", [(64, 64), (64, 256), (40, 24)])
def test_shape_and_dtype(size: tuple[int, int]) -> None:
    h, w = size
    img = render(_scene(h, w), Style(), np.random.default_rng(0))
    assert img.shape == (h, w, 3)
    assert img.dtype == np.uint8
    assert 20 < img.mean() < 235


def test_random_layouts_render_at_odd_sizes() -> None:
    rng = np.random.default_rng(11)
    for h, w in ((64, 64), (48, 200), (96, 72)):
        for _ in range(3):
            img = render(make_layout(rng, h, w), Style.sample(rng), rng)
            assert img.shape == (h, w, 3) and img.dtype == np.uint8
            assert img.std() > 3.0


def test_times_of_day_differ() -> None:
    layout = _scene(96, 128)
    means = {
        t: render(layout, Style(t, "summer", "clear", 0.3), np.random.default_rng(1)).reshape(-1, 3).mean(0)
        for t in TIMES_OF_DAY
    }
    warmth = {t: m[0] - m[2] for t, m in means.items()}
    brightness = {t: m.mean() for t, m in means.items()}
    assert warmth["sunset"] > warmth["noon"] + 20
    assert warmth["golden"] > warmth["noon"] + 10
    assert brightness["dusk"] < brightness["noon"] - 30
    assert brightness["dusk"] < min(brightness["golden"], brightness["sunset"])
    assert brightness["dusk"] > 25  # dark, but still readable


def test_season_and_weather_show() -> None:
    layout = _scene(96, 128)
    grass = layout.labels == GRASS
    tree = layout.labels == TREE
    sky = layout.labels == SKY

    def img(season: str = "summer", weather: str = "clear") -> np.ndarray:
        return render(layout, Style("noon", season, weather, 0.3), np.random.default_rng(2))

    summer, winter = img(), img("winter")
    assert _mean(winter, grass).mean() > _mean(summer, grass).mean() + 25  # snow on the grass
    assert _mean(summer, grass)[1] > _mean(summer, grass)[[0, 2]].max()  # green in summer
    autumn_tree = _mean(img("autumn"), tree)
    assert autumn_tree[0] > _mean(summer, tree)[0] + 15  # reds and yellows
    clear_sky, grey_sky = _mean(summer, sky), _mean(img(weather="overcast"), sky)
    assert clear_sky[2] - clear_sky[0] > 60
    assert grey_sky[2] - grey_sky[0] < 0.5 * (clear_sky[2] - clear_sky[0])
    hazy = img(weather="hazy")
    assert hazy.std() < summer.std()


def test_water_follows_the_sky() -> None:
    layout = _scene(96, 128)
    water, sky = layout.labels == WATER, layout.labels == SKY
    pairs = []
    for t in TIMES_OF_DAY:
        for weather in WEATHERS:
            img = render(layout, Style(t, "summer", weather, 0.2), np.random.default_rng(5))
            pairs.append((_mean(img, sky), _mean(img, water)))
    sky_means = np.array([p[0] for p in pairs])
    water_means = np.array([p[1] for p in pairs])
    for c in range(3):
        assert np.corrcoef(sky_means[:, c], water_means[:, c])[0, 1] > 0.6
    # and in colour balance: a redder sky makes redder water
    sky_warmth = sky_means[:, 0] - sky_means[:, 2]
    water_warmth = water_means[:, 0] - water_means[:, 2]
    assert np.corrcoef(sky_warmth, water_warmth)[0, 1] > 0.6


def _nearest_mean_accuracy(layout: Layout, style: Style) -> float:
    """Fit one mean colour per class on one render, classify the pixels of another."""
    labels = layout.labels.ravel()
    fit = render(layout, style, np.random.default_rng(7)).reshape(-1, 3).astype(np.float32)
    test = render(layout, style, np.random.default_rng(8)).reshape(-1, 3).astype(np.float32)
    present = np.unique(labels)
    means = np.stack([fit[labels == c].mean(0) for c in present])
    predicted = present[((test[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)]
    return float((predicted == labels).mean())


def test_labels_recoverable_by_nearest_class_mean() -> None:
    """Colour alone already separates the classes in the most common style. (Under haze,
    low sun or snow the classes overlap more in colour, as in photographs; a segmenter
    also uses texture and context.)"""
    style = Style("noon", "summer", "clear", 0.3)
    assert _nearest_mean_accuracy(_scene(128, 160), style) > 0.6
    rng = np.random.default_rng(0)
    layouts = [make_layout(rng, 96, 96, painted_fraction=0.0) for _ in range(4)]
    assert np.mean([_nearest_mean_accuracy(layout, style) for layout in layouts]) > 0.6


def test_boundaries_stay_where_the_labels_are() -> None:
    """Blending is limited to a pixel or two: away from boundaries each class keeps its look."""
    layout = _scene(96, 128)
    img = render(layout, Style(), np.random.default_rng(0)).astype(np.float32)
    lab = layout.labels
    sky_far = cv2.erode((lab == SKY).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grass_far = cv2.erode((lab == GRASS).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    # sky is blue, grass is green, right up to a couple of pixels from their edges
    assert (img[sky_far][:, 2] > img[sky_far][:, 1]).mean() > 0.95
    assert (img[grass_far][:, 1] > img[grass_far][:, 2]).mean() > 0.95


def test_style_validation_and_priors() -> None:
    with pytest.raises(ValueError, match="time_of_day"):
        Style(time_of_day="midnight")
    with pytest.raises(ValueError, match="sun_azimuth"):
        Style(sun_azimuth=2.0)
    rng = np.random.default_rng(0)
    styles = [Style.sample(rng) for _ in range(600)]
    for field, values, common in (
        ("time_of_day", TIMES_OF_DAY, "noon"),
        ("season", SEASONS, "summer"),
        ("weather", WEATHERS, "clear"),
    ):
        counts = {v: sum(getattr(s, field) == v for s in styles) for v in values}
        assert max(counts, key=counts.get) == common
        assert min(counts.values()) > 30


def test_rejects_bad_layouts() -> None:
    layout = _scene(32, 32)
    bad = Layout(layout.labels + 20, layout.instances, layout.depth, layout.height, 0.5, "painted")
    with pytest.raises(ValueError, match="class id"):
        render(bad, Style(), np.random.default_rng(0))
    bad = Layout(layout.labels, layout.instances, layout.depth[:10], layout.height, 0.5, "painted")
    with pytest.raises(ValueError, match="depth"):
        render(bad, Style(), np.random.default_rng(0))
