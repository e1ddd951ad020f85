"""The exemplar gallery: rendered landscapes in named styles, for example-guided models.

MSCA takes an exemplar photo *and its label map*; these come with both. Each style is
one look a painter may want to borrow — noon, golden hour, sunset, dusk, autumn,
winter, haze, overcast — rendered on a natural layout. ``write_gallery`` is deterministic,
so ``resources/exemplars/`` can be recreated exactly:

    app-train data exemplars --out resources/exemplars
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.landscapes.layouts import make_layout
from engine.data.landscapes.render import Style, render
from engine.fileio import atomic_write_bytes

# name → (time of day, season, weather, sun azimuth, layout seed)
GALLERY: dict[str, tuple[str, str, str, float, int]] = {
    "noon": ("noon", "summer", "clear", 0.3, 11),
    "golden-hour": ("golden", "summer", "clear", -0.6, 12),
    "sunset": ("sunset", "summer", "clear", 0.7, 13),
    "dusk": ("dusk", "summer", "clear", -0.2, 14),
    "autumn": ("noon", "autumn", "clear", 0.4, 15),
    "autumn-golden": ("golden", "autumn", "hazy", 0.8, 16),
    "winter": ("noon", "winter", "clear", -0.4, 17),
    "winter-sunset": ("sunset", "winter", "clear", 0.5, 18),
    "hazy": ("noon", "summer", "hazy", 0.1, 19),
    "overcast": ("noon", "summer", "overcast", 0.0, 20),
    "stormy-dusk": ("dusk", "winter", "overcast", 0.6, 21),
    "misty-morning": ("golden", "autumn", "hazy", -0.9, 22),
}
INDEX = "exemplars.json"


def render_exemplar(
    name: str, size: tuple[int, int] = (256, 256)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(RGB, labels, instances) of gallery entry ``name``."""
    time_of_day, season, weather, azimuth, seed = GALLERY[name]
    layout_ss, render_ss = np.random.SeedSequence(seed).spawn(2)
    layout = make_layout(np.random.default_rng(layout_ss), *size, painted_fraction=0.0)
    style = Style(time_of_day=time_of_day, season=season, weather=weather, sun_azimuth=azimuth)
    return render(layout, style, np.random.default_rng(render_ss)), layout.labels, layout.instances


def write_gallery(out: Path | str, size: tuple[int, int] = (256, 256)) -> Path:
    """NAME.jpg, NAME_labels.png (ids), NAME_instances.png and an index for every style."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (time_of_day, season, weather, azimuth, seed) in GALLERY.items():
        image, labels, instances = render_exemplar(name, size)
        Image.fromarray(image).save(out / f"{name}.jpg", quality=92)
        Image.fromarray(labels.astype(np.uint8), mode="L").save(out / f"{name}_labels.png")
        Image.fromarray(instances.astype(np.uint16)).save(out / f"{name}_instances.png")
        entries.append({
            "name": name, "image": f"{name}.jpg", "labels": f"{name}_labels.png",
            "instances": f"{name}_instances.png", "time_of_day": time_of_day, "season": season,
            "weather": weather, "sun_azimuth": azimuth, "layout_seed": seed,
        })  # fmt: skip
    index = {"format": "tessera-exemplars", "version": 1, "label_set": "landscapes", "exemplars": entries}
    atomic_write_bytes(out / INDEX, (json.dumps(index, indent=1) + "\n").encode())
    return out
