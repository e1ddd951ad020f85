"""Tiny datasets and label sets built on the fly for tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

TINY_SET = {
    "name": "tiny",
    "title": "Tiny test set",
    "dontcare": 0,
    "classes": [
        {"id": 0, "name": "unknown", "color": [0, 0, 0], "thing": False},
        {"id": 1, "name": "sky", "color": [110, 170, 240], "thing": False},
        {"id": 2, "name": "grass", "color": [60, 160, 60], "thing": False},
        {"id": 3, "name": "water", "color": [30, 80, 160], "thing": False},
        {"id": 4, "name": "tree", "color": [20, 90, 30], "thing": True},
    ],
}
COLOURS = {c["id"]: c["color"] for c in TINY_SET["classes"]}


def tiny_scene(seed: int, size: tuple[int, int] = (64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """A sky/grass/water scene with a tree or two, and a matching 'photo'."""
    rng = np.random.default_rng(seed)
    h, w = size
    labels = np.full((h, w), 1, np.uint16)
    horizon = int(rng.integers(h // 3, h // 2))
    labels[horizon:] = 2
    shore = int(rng.integers(horizon + 4, h - 8))
    labels[shore:, : int(rng.integers(w // 4, w))] = 3
    for _ in range(int(rng.integers(1, 3))):
        x, y = int(rng.integers(4, w - 8)), int(rng.integers(horizon - 10, horizon))
        labels[max(y, 0) : y + 10, x : x + 5] = 4
    labels[0, 0] = 0  # one dontcare pixel, as real datasets have
    image = np.zeros((h, w, 3), np.float32)
    for cid, col in COLOURS.items():
        image[labels == cid] = col
    image += rng.normal(0, 12, image.shape)
    return labels, image.clip(0, 255).astype(np.uint8)


def make_folder_dataset(root: Path, count: int = 8, size: tuple[int, int] = (64, 64)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(
        json.dumps({"format": "tessera-dataset", "version": 1, "label_set": TINY_SET})
    )
    for split, n in (("train", count), ("val", 2)):
        (root / split / "images").mkdir(parents=True, exist_ok=True)
        (root / split / "labels").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            labels, image = tiny_scene(i + (1000 if split == "val" else 0), size)
            Image.fromarray(image).save(root / split / "images" / f"s{i:03d}.png")
            Image.fromarray(labels.astype(np.uint8), mode="L").save(root / split / "labels" / f"s{i:03d}.png")
    return root
