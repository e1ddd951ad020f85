"""The SESAME discriminator: Ntavelis, Romero, Kastanis, Van Gool, Timofte.
"SESAME: Semantic Editing of Scenes by Adding, Manipulating or Erasing Objects", ECCV 2020 —
as RESAIL (Shi et al., CVPR 2022, supplement B, Fig. C) trains with it (``--netD
sesamemultiscale``).

Each scale has two pathways of SPADE's PatchGAN layers (4×4 convs, pad 2; the first with a
bias and no norm, the others spectral-normed without bias + affine-free InstanceNorm; the
last of them stride 1; LeakyReLU 0.2): a *semantic* pathway on the label map and an *image*
pathway on the RGB image. The image pathway's last feature h is modulated by the semantic
one's, h + h·Σ_c s_c (element-wise addition and multiplication), and a plain 4×4 conv makes
the patch logits. The multi-scale wrapper is the PatchGAN's: the next scale sees both inputs
average-pooled (3×3, stride 2, pad 1, padding not counted).

The returned features follow :class:`engine.networks.patchgan.MultiScalePatchGan` — per
scale, every image-pathway group's output (before the modulation) and, last, the logits —
so the hinge and feature-matching losses of ``engine.train.gan_losses`` apply unchanged.

Parameter names follow Shi-Yupeng/RESAIL-For-SIS ``models/networks/discriminator.py``
(``discriminator_0.sem_sequence.1.0.0.weight_orig``, ``….img_sequence.4.0.weight`` …).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.networks.blocks import sn


@dataclass
class SesameDiscriminatorConfig:
    semantic_nc: int  # class one-hot channels, as the generator's
    instance_edges: bool = False  # an instance-edge channel follows the one-hot (official runs: off)
    ndf: int = 64  # width of the first conv of each pathway
    n_layers: int = 4  # n_layers_D: convs per pathway (the image one adds the logit conv)
    num_d: int = 2  # number of scales
    spectral_norm: bool = True  # norm_D "spectralinstance": SN + InstanceNorm on the later convs

    @property
    def label_nc(self) -> int:
        return self.semantic_nc + int(self.instance_edges)


def _pathway(in_nc: int, config: SesameDiscriminatorConfig) -> list[nn.Sequential]:
    """The layer groups of one pathway, nested as the official code nests them
    (``[Sequential(conv, InstanceNorm), LeakyReLU]`` after the first group)."""
    nf = config.ndf
    groups = [nn.Sequential(nn.Conv2d(in_nc, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2))]
    for n in range(1, config.n_layers):
        prev, nf = nf, min(nf * 2, 512)
        stride = 1 if n == config.n_layers - 1 else 2
        conv = sn(nn.Conv2d(prev, nf, 4, stride=stride, padding=2, bias=False), config.spectral_norm)
        groups.append(nn.Sequential(nn.Sequential(conv, nn.InstanceNorm2d(nf)), nn.LeakyReLU(0.2)))
    return groups


class SesameDiscriminator(nn.Module):
    """One scale: semantic pathway ‖ image pathway, merged before the logit conv."""

    def __init__(self, config: SesameDiscriminatorConfig) -> None:
        super().__init__()
        self.sem_sequence = nn.Sequential(*_pathway(config.label_nc, config))
        image = _pathway(3, config)
        width = min(config.ndf * 2 ** (config.n_layers - 1), 512)
        image.append(nn.Sequential(nn.Conv2d(width, 1, 4, stride=1, padding=2)))
        self.img_sequence = nn.ModuleList(image)

    def forward(self, labels: torch.Tensor, image: torch.Tensor) -> list[torch.Tensor]:
        sem = self.sem_sequence(labels)
        features = []
        h = image
        for group in self.img_sequence[:-1]:
            h = group(h)
            features.append(h)
        # SESAME's merge: the semantic features, summed over channels, gate the image ones.
        h = h + h * sem.sum(dim=1, keepdim=True)
        features.append(self.img_sequence[-1](h))
        return features


class SesameMultiScaleDiscriminator(nn.Module):
    """``discriminator_0`` at full size, each next one at half (official
    ``SesameMultiscaleDiscriminator``)."""

    def __init__(self, config: SesameDiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        for i in range(config.num_d):
            self.add_module(f"discriminator_{i}", SesameDiscriminator(config))

    def forward(self, labels: torch.Tensor, image: torch.Tensor) -> list[list[torch.Tensor]]:
        """labels (B, semantic_nc [+ 1 edge], H, W), image (B, 3, H, W) in [-1, 1].

        Returns, per scale, the image pathway's group outputs and, last, the patch logits.
        """
        if labels.shape[1] != self.config.label_nc:
            raise ValueError(
                f"the discriminator takes {self.config.label_nc} label channels, got {labels.shape[1]}"
            )
        if image.shape[1] != 3 or image.shape[-2:] != labels.shape[-2:] or image.shape[0] != labels.shape[0]:
            raise ValueError(
                f"image {tuple(image.shape)} must be (B, 3, H, W) like the labels {tuple(labels.shape)}"
            )
        labels = labels.to(image.dtype)
        results = []
        for i, d in enumerate(self.children()):
            if i:  # pooling each input alone is the official pooling of their concatenation
                labels, image = (
                    F.avg_pool2d(t, kernel_size=3, stride=2, padding=1, count_include_pad=False)
                    for t in (labels, image)
                )
            results.append(d(labels, image))
        return results
