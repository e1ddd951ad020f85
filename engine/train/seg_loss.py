"""The segmentation loss through a frozen *training* segmenter, for any generator family.

RESAIL's objective has it (×5, method notes §4); beyond their papers OASIS, INADE and
MSCA may take it too (``--seg-net FOLDER``): a generated image is segmented by a frozen
network and the class-balanced cross-entropy against the input map is added to the
generator's loss. It ties colours and textures to their classes, which the adversarial
losses alone teach slowly on one CPU core (INADE's PatchGAN sees the map only as input
channels). The segmenter must never be the evaluation segmenter: a model trained against
it would be scored by its own loss, so that one is refused by file content.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import InputError
from engine.labels import LabelSet
from engine.paths import WEIGHTS
from engine.registry import ModelSpec
from engine.train.losses import class_balance_weights
from engine.train.options import FitOptions

EVALUATION_SEGMENTER = WEIGHTS / "landscapes-segmenter"


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def load_training_segmenter(
    folder: Path,
    evaluation: Path = EVALUATION_SEGMENTER,
    *,
    label_set: LabelSet | None = None,
    of: str = "the model",
) -> tuple[nn.Module, ModelSpec]:
    """The frozen segmenter of the segmentation loss; never the evaluation segmenter.
    With ``label_set``, it must segment into that set (``of`` names whose it is)."""
    from engine.checkpoints import load_weights

    mine = _digest(Path(folder) / "segmenter.safetensors")
    if mine is not None and mine == _digest(Path(evaluation) / "segmenter.safetensors"):
        raise InputError(
            "this is the evaluation segmenter: a model trained against it would be scored by its own loss",
            source=folder,
            fix="pass another segmenter, e.g. --seg-net weights/landscapes-unet",
        )
    loaded = load_weights(folder, family="segmenter", parts=("segmenter",))
    if label_set is not None and loaded.spec.label_set.to_dict() != label_set.to_dict():
        raise InputError(
            f"the segmenter knows label set '{loaded.spec.label_set.name}', {of} '{label_set.name}'",
            source=folder,
            fix="pass a segmenter trained on the same label set",
        )
    return loaded.nets["segmenter"].float().eval().requires_grad_(False), loaded.spec


class SegmentationLoss(nn.Module):
    """λ · class-balanced cross-entropy of the frozen segmenter on generated images.

    The class weights are OASIS's (inverse pixel frequency in the batch), so a small class
    such as a flower patch counts as much as the sky. Gradients flow into the image only.
    """

    def __init__(self, folder: Path, label_set: LabelSet, weight: float) -> None:
        super().__init__()
        self.net, self.spec = load_training_segmenter(folder, label_set=label_set)
        self.folder, self.weight = Path(folder), weight

    def forward(self, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        enc = self.spec.encoder
        target = enc.channels(labels).to(fake.device)
        weights = class_balance_weights(target, enc.num_channels, enc.dontcare_channel)
        logits = self.net(fake.float())
        return self.weight * (F.cross_entropy(logits, target, reduction="none") * weights).mean()

    @property
    def note(self) -> str:
        return f"segmentation loss ×{self.weight}, frozen {self.folder}"


def segmentation_loss(
    options: FitOptions, label_set: LabelSet, device: torch.device
) -> SegmentationLoss | None:
    """The loss the options ask for (``--seg-net`` with ``--lambda-seg`` > 0), or None."""
    if options.seg_net is None or options.lambda_seg <= 0:
        return None
    return SegmentationLoss(options.seg_net, label_set, options.lambda_seg).to(device)
