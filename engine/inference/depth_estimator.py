"""A trained depth estimator at work: images (or a photo) → depth maps in [0, 1], 0 = near.

Wraps a ``depth`` weights folder (:mod:`engine.networks.depth`) for the three places that
need depth of an image without one: ugen's depth-mapper training (generated images), the
studio and ``app-train`` turning a photo into a depth condition, and the estimator's own
evaluation. Images of any size are accepted: the net needs sides that are multiples of its
``size_multiple``, so other sizes are resized to the nearest such size and the depth back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.checkpoints import CONFIG, load_weights, read_spec
from engine.errors import WeightsError
from engine.networks.depth import DepthNet

TRAIN_FIX = (
    "pass a depth estimator's weights folder (train one with app-train fit --family depth "
    "--data landscapes:DATA …, then app-train export)"
)


class DepthEstimator:
    def __init__(self, net: DepthNet, folder: Path, device: str | torch.device = "cpu") -> None:
        self.folder = folder
        self.device = torch.device(device)
        self.net = net.float().to(self.device).eval().requires_grad_(False)

    @classmethod
    def load(cls, folder: Path | str, device: str | torch.device = "cpu") -> DepthEstimator:
        """The estimator of a ``depth`` weights folder; another family's folder is refused
        naming its config.json and the fix."""
        folder = Path(folder)
        family = read_spec(folder).family  # a missing or broken folder says so itself
        if family != "depth":
            raise WeightsError(
                f"this is a '{family}' model, not a depth estimator", source=folder / CONFIG, fix=TRAIN_FIX
            )
        net = load_weights(folder, family="depth").nets["depth"]
        assert isinstance(net, DepthNet)
        return cls(net, folder, device)

    @property
    def size_multiple(self) -> int:
        return self.net.config.size_multiple

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB in [-1, 1] → (B, 1, H, W) float32 depth in [0, 1]; no gradient.
        Values beyond [-1, 1] (a generator's overshoot) are clipped: the net never saw them."""
        h, w = images.shape[-2:]
        m = self.size_multiple
        fit = (max(m, round(h / m) * m), max(m, round(w / m) * m))
        x = images.detach().float().clamp(-1, 1).to(self.device)
        if fit != (h, w):
            x = F.interpolate(x, size=fit, mode="bilinear", align_corners=False, antialias=True)
        with torch.autocast(self.device.type, enabled=False):
            depth = self.net(x)
        if fit != (h, w):
            depth = F.interpolate(depth, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)
        return depth.to(images.device)

    def of_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """An H×W×3 uint8 image → H×W float32 depth in [0, 1]."""
        x = torch.from_numpy(np.ascontiguousarray(rgb[..., :3]).astype(np.float32)).permute(2, 0, 1)[None]
        return self(x / 127.5 - 1)[0, 0].cpu().numpy()
