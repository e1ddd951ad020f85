"""INADE inference: label map + instances + noise field → image; photo → per-instance style.

The same surface as :class:`engine.inference.synthesizer.Synthesizer` where the studio
needs it (``generate``, ``z_dim``, ``check_size``, ``backend_name`` …), so the window
and its worker treat both families alike. The noise field's vectors are 2 × noise_nc
long (an instance's γ row and β row); :mod:`engine.inference.inade_noise` says how
instances read it. INADE runs on torch eager fp32 only.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.inference.inade_noise import InstanceLayout, instance_layout, instance_noise
from engine.inference.synthesizer import require_multiple, require_noise_fits, to_uint8_image
from engine.networks.blocks import fold_spectral_norm
from engine.networks.inade import InadeEncoder, InadeGenerator, instance_onehot
from engine.noise import NoiseField


class InadeSynthesizer:
    family = "inade"
    backend = "eager"
    backend_name = "torch-eager fp32"
    backend_report = None
    last_decision = None
    discriminator = None  # INADE's PatchGAN cannot segment photos

    def __init__(self, weights: LoadedWeights, device: str | torch.device = "cpu") -> None:
        self.weights = weights
        self.spec = weights.spec
        self.device = torch.device(device)
        self.encoder = self.spec.encoder  # labels → channels, as Synthesizer.encoder
        self.generator: InadeGenerator = fold_spectral_norm(weights.nets["generator"]).to(self.device).eval()
        style = weights.nets.get("encoder")
        self.style_encoder: InadeEncoder | None = style.to(self.device).eval() if style is not None else None
        config = self.generator.config
        self.noise_nc = config.noise_nc
        self._lock = threading.Lock()

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> InadeSynthesizer:
        """``segmenter`` and ``backend`` are accepted for the studio's sake: INADE has no
        segmenting discriminator, and runs on eager fp32 whatever is asked."""
        weights = load_weights(folder, family="inade", parts=("generator",), optional=("encoder",))
        return cls(weights, device)

    @property
    def z_dim(self) -> int:
        """Length of the noise field's vectors: an instance's γ and β rows."""
        return 2 * self.noise_nc

    @property
    def size_multiple(self) -> int:
        return self.generator.config.scale

    def check_size(self, height: int, width: int, source: str) -> None:
        require_multiple(height, width, self.size_multiple, source)

    def decision_for(self, height: int, width: int) -> None:
        return None

    def layout(self, labels: np.ndarray, instances: np.ndarray | None = None) -> InstanceLayout:
        """The scene's INADE instances: objects, and one "stuff" instance per class."""
        return instance_layout(labels, instances)

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
        if instances is not None and instances.shape != labels.shape:
            raise InputError(
                f"the instance map is {instances.shape[1]}×{instances.shape[0]}, the labels {w}×{h}",
                source=source,
                fix="give both maps the same size",
            )
        onehot = self.encoder.onehot(labels, source=source).to(self.device)
        layout = self.layout(labels, instances)
        per_instance, z = instance_noise(layout, noise, self.noise_nc, self.generator.config.z_dim)
        inst = instance_onehot(torch.from_numpy(layout.ids)[None], layout.count).to(self.device)
        with self._lock:
            image = self.generator(onehot, inst, per_instance.to(self.device), z.to(self.device))
        return to_uint8_image(image)

    @torch.no_grad()
    def encode_style(
        self, photo: np.ndarray, labels: np.ndarray, instances: np.ndarray | None = None
    ) -> dict[tuple[int, int], torch.Tensor]:
        """Per instance of a photo (with its label/instance maps), the style as a noise
        vector: the encoder's mean (μ_γ ‖ μ_β), the centre of the distribution the paper's
        "style from a reference" samples from. Keys are (class id, instance id)."""
        if self.style_encoder is None:
            raise InputError(
                "this weights folder has no encoder.safetensors",
                source=str(self.weights.folder),
                fix="export the run again (the encoder is exported with the generator)",
            )
        h, w = labels.shape
        m = self.style_encoder.config.size_multiple
        if photo.shape[:2] != (h, w) or h % m or w % m:
            raise InputError(
                f"photo {photo.shape[1]}×{photo.shape[0]} and labels {w}×{h} must match, "
                f"with sides that are multiples of {m}",
                source="photo",
                fix="segment the photo at its own size and crop both to multiples of 16",
            )
        layout = self.layout(labels, instances)
        x = (
            torch.from_numpy(photo.astype(np.float32))
            .permute(2, 0, 1)[None]
            .div(127.5)
            .sub(1)
            .to(self.device)
        )
        inst = instance_onehot(torch.from_numpy(layout.ids)[None], layout.count).to(self.device)
        style = self.style_encoder(x, inst)
        vectors = torch.cat((style.scale_mu[0], style.bias_mu[0]), dim=1).float().cpu()
        return {key: vectors[k] for k, key in enumerate(layout.keys)}

    def style_of(
        self, labels: np.ndarray, instances: np.ndarray | None, noise: NoiseField, mask: np.ndarray
    ) -> torch.Tensor:
        """The noise vector of the instance that covers most of ``mask`` ("copy style")."""
        layout = self.layout(labels, instances)
        k = int(np.bincount(layout.ids[mask], minlength=layout.count).argmax())
        rows, _ = instance_noise(layout, noise, self.noise_nc, self.generator.config.z_dim)
        return rows[0, k].reshape(-1).clone()

    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        raise InputError(
            "INADE models cannot turn a photo into a label map",
            source=str(self.weights.folder),
            fix="open the photo with an OASIS model (its discriminator segments), then switch back",
        )
