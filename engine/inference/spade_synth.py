"""SPADE inference: label map (+ instances) → image; photo → style code (``use_vae`` models).

The same surface as :class:`engine.inference.synthesizer.Synthesizer` where the studio
needs it (``generate``, ``z_dim``, ``check_size``, ``backend_name`` …). The released
models start from the label map and take no noise: ``deterministic`` is True and the
studio's noise field is a 1-d placeholder (as for MSCA), so every seed gives the same
image. A ``use_vae`` model reads one global z from the noise field — the vector of its
oldest region, as INADE's global vector — or, with an encoder, from a photo.

The instance-edge channel (Cityscapes, COCO-Stuff) is the 4-neighbour edge map of the
(class, instance) pair per pixel: the official instance maps hold the class id on stuff
pixels (Cityscapes ``instanceIds``; COCO-Stuff's instance maps are drawn over the label
map), so class boundaries are edges there too. Without an instance map only class
boundaries are. SPADE runs on torch eager fp32 only.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.inference.synthesizer import require_multiple, require_noise_fits, to_uint8_image
from engine.networks.blocks import fold_spectral_norm, instance_edges
from engine.networks.spade import SpadeEncoder, SpadeGenerator
from engine.noise import NoiseField


class SpadeSynthesizer:
    family = "spade"
    backend = "eager"
    backend_name = "torch-eager fp32"
    backend_report = None
    last_decision = None
    discriminator = None  # no discriminator was released: SPADE cannot segment photos

    def __init__(self, weights: LoadedWeights, device: str | torch.device = "cpu") -> None:
        self.weights = weights
        self.spec = weights.spec
        self.device = torch.device(device)
        self.encoder = self.spec.encoder  # labels → channels, as Synthesizer.encoder
        self.generator: SpadeGenerator = fold_spectral_norm(weights.nets["generator"]).to(self.device).eval()
        style = weights.nets.get("encoder")
        self.style_encoder: SpadeEncoder | None = (
            fold_spectral_norm(style).to(self.device).eval() if style is not None else None
        )
        self._lock = threading.Lock()

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> SpadeSynthesizer:
        """``segmenter`` and ``backend`` are accepted for the studio's sake: SPADE has no
        segmenting discriminator, and runs on eager fp32 whatever is asked."""
        weights = load_weights(folder, family="spade", parts=("generator",), optional=("encoder",))
        return cls(weights, device)

    @property
    def deterministic(self) -> bool:
        """True when the model takes no noise (the released models): re-rolls change nothing."""
        return not self.generator.config.use_vae

    @property
    def no_noise(self) -> str:
        """Why the studio's re-roll controls are off for this model ("" when they work)."""
        if not self.deterministic:
            return ""
        return (
            "This model is deterministic (SPADE without an image encoder): it takes no noise, "
            "so every re-roll would give the same image"
        )

    @property
    def z_dim(self) -> int:
        """Length of the noise field's vectors: z for a ``use_vae`` model, else a 1-d placeholder."""
        return self.generator.config.z_dim if not self.deterministic else 1

    @property
    def size_multiple(self) -> int:
        return self.generator.config.scale

    def check_size(self, height: int, width: int, source: str) -> None:
        require_multiple(height, width, self.size_multiple, source)

    def decision_for(self, height: int, width: int) -> None:
        return None

    def condition(
        self, labels: np.ndarray, instances: np.ndarray | None = None, source: str = "label map"
    ) -> torch.Tensor:
        """The generator input (1, cond_nc, H, W): one-hot, then the edge map if the model reads one."""
        onehot = self.encoder.onehot(labels, source=source)
        if not self.generator.config.instance_edges:
            return onehot.to(self.device)
        key = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        if instances is not None:
            if instances.shape != labels.shape:
                raise InputError(
                    f"the instance map is {instances.shape[1]}×{instances.shape[0]}, "
                    f"the labels {labels.shape[1]}×{labels.shape[0]}",
                    source=source,
                    fix="give both maps the same size",
                )
            inst = torch.from_numpy(np.asarray(instances, dtype=np.int64))
            key = key * (int(inst.max()) + 1) + inst  # one value per (class, instance) pair
        return torch.cat((onehot, instance_edges(key[None])), dim=1).to(self.device)

    def global_vector(self, noise: NoiseField) -> torch.Tensor:
        """z (z_dim,) of a ``use_vae`` model: the oldest region's vector, which only
        "re-roll everything" replaces."""
        return noise.global_vector()

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "label map",
        instances: np.ndarray | None = None,
    ) -> np.ndarray:
        """H×W label ids (+ instance ids, 0 = none) and a noise field → H×W×3 uint8."""
        h, w = labels.shape
        self.check_size(h, w, source)
        require_noise_fits(noise, h, w, self.z_dim, source)
        cond = self.condition(labels, instances, source)
        z = None if self.deterministic else self.global_vector(noise)[None].to(self.device)
        with self._lock:
            image = self.generator(cond, z)
        return to_uint8_image(image)

    @torch.no_grad()
    def encode_photo(self, photo: np.ndarray) -> torch.Tensor:
        """The z (z_dim,) that gives a painting the style of ``photo`` (H×W×3 uint8): the
        encoder's mean (the official test samples around it; the mean is repeatable)."""
        if self.style_encoder is None:
            raise InputError(
                "this SPADE model has no image encoder, so it cannot take a photo's style",
                source=str(self.weights.folder),
                fix="import a use_vae checkpoint together with its latest_net_E.pth",
            )
        x = torch.from_numpy(np.ascontiguousarray(photo, dtype=np.float32)).permute(2, 0, 1)[None]
        mu, _ = self.style_encoder(x.to(self.device) / 127.5 - 1)
        return mu[0].float().cpu()

    def style_of(
        self, labels: np.ndarray, instances: np.ndarray | None, noise: NoiseField, mask: np.ndarray
    ) -> torch.Tensor:
        """The style for "copy style": SPADE's is global, so the scene's z (the placeholder
        for a deterministic model)."""
        return self.global_vector(noise).clone()

    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        raise InputError(
            "SPADE models cannot turn a photo into a label map",
            source=str(self.weights.folder),
            fix="open the photo with an OASIS model (its discriminator segments), then switch back",
        )
