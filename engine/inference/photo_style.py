"""Take a style from a photo: segment it, encode it, pick the instance of the wanted class.

INADE's encoder needs the photo's label (and instance) map. A painter dropping in a
photo has none, so the photo is segmented first with a segmenter of the same label set
(the shipped ``landscapes-segmenter``); every class of the photo is then one instance.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from engine.checkpoints import load_weights, read_spec
from engine.errors import InputError, TesseraError
from engine.inference.inade_synth import InadeSynthesizer
from engine.labels import LabelSet


class PhotoSegmenter:
    """A trained ``segmenter`` weights folder: photo → label ids at the photo's size."""

    def __init__(self, folder: Path | str) -> None:
        weights = load_weights(folder, family="segmenter", parts=("segmenter",))
        self.net = weights.nets["segmenter"].eval()
        self.spec = weights.spec
        self.label_set = weights.spec.label_set

    @torch.no_grad()
    def segment(self, photo: np.ndarray) -> np.ndarray:
        h, w = photo.shape[:2]
        m = self.net.config.size_multiple
        th, tw = max(m, round(h / m) * m), max(m, round(w / m) * m)
        resized = cv2.resize(photo, (tw, th), interpolation=cv2.INTER_AREA) if (th, tw) != (h, w) else photo
        x = torch.from_numpy(resized.astype(np.float32)).permute(2, 0, 1)[None].div(127.5).sub(1)
        logits = self.net(x)
        if self.spec.encoder.dontcare_channel is not None:
            logits[:, self.spec.encoder.dontcare_channel] = -torch.inf
        channels = logits.argmax(1)[0].numpy().astype(np.int64)
        channels = cv2.resize(channels.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
        return np.asarray(self.spec.channel_ids, np.uint16)[channels]


def cached_segmenter(folder: Path | str) -> PhotoSegmenter:
    """The segmenter of ``folder``, loaded once and reused while its weights file is unchanged
    (the studio segments photos on demand; reading the weights each time cost more than
    segmenting)."""
    path = Path(folder).resolve()
    weights = path / "segmenter.safetensors"
    stamp = weights.stat().st_mtime_ns if weights.is_file() else 0
    return _load_segmenter(str(path), stamp)


@functools.lru_cache(maxsize=2)
def _load_segmenter(folder: str, stamp: int) -> PhotoSegmenter:
    return PhotoSegmenter(folder)


def find_segmenter(folders: Iterable[Path], label_set: LabelSet) -> Path | None:
    """A segmenter weights folder for ``label_set`` under ``folders`` (each may be one)."""
    for root in folders:
        root = Path(root)
        candidates = [root] if (root / "config.json").is_file() else sorted(root.glob("*/config.json"))
        for config in candidates:
            folder = config if config.is_dir() else config.parent
            try:
                spec = read_spec(folder)
            except TesseraError:
                continue
            if spec.family == "segmenter" and spec.label_set == label_set:
                return folder
    return None


def style_from_photo(
    synth: InadeSynthesizer, segmenter: PhotoSegmenter, photo: np.ndarray, class_id: int
) -> torch.Tensor:
    """The noise vector that gives an instance of ``class_id`` the look it has in ``photo``."""
    name = synth.spec.label_set.by_id(class_id).name
    # Work at the model's training scale, with sides the encoder accepts.
    m = synth.style_encoder.config.size_multiple if synth.style_encoder is not None else 16
    short = min(synth.spec.image_size)
    scale = short / min(photo.shape[:2])
    th = max(m, round(photo.shape[0] * scale / m) * m)
    tw = max(m, round(photo.shape[1] * scale / m) * m)
    work = cv2.resize(photo, (tw, th), interpolation=cv2.INTER_AREA)
    labels = segmenter.segment(work)
    if not (labels == class_id).any():
        present = ", ".join(sorted({synth.spec.label_set.by_id(int(i)).name for i in np.unique(labels)}))
        raise InputError(
            f"the photo shows no {name} (it has: {present})",
            source="photo",
            fix=f"pick a photo with {name} in it, or select another object",
        )
    return synth.encode_style(work, labels)[(class_id, 0)]
