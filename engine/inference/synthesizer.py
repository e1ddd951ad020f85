"""One inference API: label map + noise → image, and photo → label map.

This is the torch backend in fp32 (the reference). Spectral norm is folded into
plain weights once at load time, which is exact in eval mode and saves the per-call
normalisation. Faster backends (bf16, ONNX Runtime, incremental updates) plug in
behind the same methods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.networks.blocks import fold_spectral_norm
from engine.noise import NoiseField


def to_uint8_image(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] → H×W×3 uint8."""
    return ((x[0].permute(1, 2, 0).float().cpu().numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


class Synthesizer:
    def __init__(self, weights: LoadedWeights, device: str | torch.device = "cpu") -> None:
        self.weights = weights
        self.spec = weights.spec
        self.device = torch.device(device)
        self.encoder = self.spec.encoder
        self.generator = fold_spectral_norm(weights.nets["generator"]).to(self.device).eval()
        disc = weights.nets.get("discriminator")
        self.discriminator = fold_spectral_norm(disc).to(self.device).eval() if disc is not None else None

    @classmethod
    def from_folder(cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False) -> Synthesizer:
        parts = ("generator", "discriminator") if segmenter else ("generator",)
        return cls(load_weights(folder, family="oasis", parts=parts), device)

    @property
    def size_multiple(self) -> int:
        return self.spec.arch.generator.size_multiple

    @property
    def z_dim(self) -> int:
        return self.spec.arch.generator.z_dim

    def check_size(self, height: int, width: int, source: str) -> None:
        m = self.size_multiple
        if height % m or width % m:
            fit_h, fit_w = max(m, round(height / m) * m), max(m, round(width / m) * m)
            raise InputError(
                f"the label map is {width}×{height}; this model needs sides that are multiples of {m}",
                source=source,
                fix=f"resize or crop it, e.g. to {fit_w}×{fit_h}",
            )

    @torch.no_grad()
    def generate(self, labels: np.ndarray, noise: NoiseField, source: str = "label map") -> np.ndarray:
        """H×W label ids + a matching noise field → H×W×3 uint8 image."""
        h, w = labels.shape
        self.check_size(h, w, source)
        if (noise.height, noise.width) != (h, w) or noise.z_dim != self.z_dim:
            raise InputError(
                f"noise field is {noise.z_dim}×{noise.height}×{noise.width}, expected {self.z_dim}×{h}×{w}",
                source=source,
                fix="make the noise field for this label map and model",
            )
        onehot = self.encoder.onehot(labels, source=source).to(self.device)
        z = noise.to_tensor(device=self.device)[None]
        return to_uint8_image(self.generator(onehot, z))

    @torch.no_grad()
    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        """Photo (H×W×3 uint8) → H×W label ids, with the OASIS discriminator as segmenter.

        The photo is resized so its shorter side is about the model's training size (the
        scale D knows), rounded to the multiples D needs; the labels come back at the
        photo's own size. The "fake" channel and the dontcare channel are never chosen.
        """
        if self.discriminator is None:
            raise InputError(
                "this weights folder has no discriminator.safetensors",
                source=str(self.weights.folder),
                fix="export the run again with D",
            )
        m = self.spec.arch.discriminator.size_multiple
        h, w = image.shape[:2]
        short = work_size or min(self.spec.image_size)
        scale = short / min(h, w)
        th, tw = max(m, round(h * scale / m) * m), max(m, round(w * scale / m) * m)
        x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].div(127.5).sub(1)
        x = x.to(self.device)
        x = F.interpolate(x, size=(th, tw), mode="bilinear", align_corners=False, antialias=True)
        logits = self.discriminator(x)[:, 1:]  # drop "fake"
        if self.encoder.dontcare_channel is not None:
            logits[:, self.encoder.dontcare_channel] = -torch.inf
        channels = logits.argmax(1, keepdim=True).float()
        channels = F.interpolate(channels, size=(h, w), mode="nearest")[0, 0].long()
        return self.encoder.ids_from_channels(channels).cpu().numpy().astype(np.uint16)
