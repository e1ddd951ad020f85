"""RESAIL inference: label map → retrieved segments → guidance image → image.

A RESAIL weights folder holds the generator and, in ``retrieval/``, the segment database it
was trained with. Each call hands the map to a :class:`~engine.retrieval.Retriever`, which
re-retrieves only the segments a stroke changed, composes the guidance image from the
chosen matches (the best one unless the painter chose another), and runs the generator on
[one-hot ‖ guidance]. The model takes no noise, so the studio's noise field is a 1-d
placeholder as for SPADE; what varies an image is which retrieved segments guide it.

The match threshold is the one the model was trained with (``--retrieval-threshold``,
kept in config.json), so the studio guides the same share of a map as training did.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from engine.checkpoints import LoadedWeights, load_weights
from engine.errors import InputError
from engine.inference.onehot_conv import Box
from engine.inference.resail_live import ResailLive
from engine.inference.spade_synth import SpadeSynthesizer
from engine.inference.synthesizer import require_noise_fits, to_uint8_image
from engine.networks.resail import guidance_to_tensor
from engine.noise import NoiseField
from engine.retrieval import (
    THRESHOLD,
    WEIGHTS_SUBFOLDER,
    Choice,
    Guidance,
    RetrievalParams,
    RetrievalState,
    Retriever,
    SegmentDatabase,
    load_database,
)


def bounding_box(mask: np.ndarray) -> Box | None:
    """(y0, x0, y1, x1) of the True pixels, None when there are none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


EDIT_SHARE = 0.25  # a change to fewer pixels than this is an edit of the same painting


class ResailSynthesizer(SpadeSynthesizer):
    family = "resail"

    def __init__(
        self, weights: LoadedWeights, db: SegmentDatabase, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(weights, device)
        if db.label_set.to_dict() != self.spec.label_set.to_dict():
            raise InputError(
                f"the segment database holds label set '{db.label_set.name}', "
                f"the model '{self.spec.label_set.name}'",
                source=db.path or str(weights.folder),
                fix="rebuild the database from the model's training data (app-train retrieval build)",
            )
        self.db = db
        options = self.spec.training.get("options", {})
        self.params = RetrievalParams(threshold=float(options.get("retrieval_threshold", THRESHOLD)))
        self.retriever = Retriever(db, self.params)
        self.last_guidance: Guidance | None = None
        self.last_state: RetrievalState | None = None
        # After a stroke only the RESAIL layers' γ, β near the change are recomputed.
        self.live = ResailLive(self.generator)
        self._previous: tuple[np.ndarray, np.ndarray | None] | None = None  # labels, instances

    @classmethod
    def from_folder(
        cls, folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
    ) -> ResailSynthesizer:
        """``segmenter`` and ``backend`` are accepted for the studio's sake (eager fp32 only)."""
        weights = load_weights(folder, family="resail", parts=("generator",))
        db_folder = Path(folder) / WEIGHTS_SUBFOLDER
        if not db_folder.is_dir():
            raise InputError(
                "this RESAIL weights folder has no segment database",
                source=db_folder,
                fix="export the model again with app-train export (it writes retrieval/), or build one "
                "from its training data with app-train retrieval build --out <folder>/retrieval",
            )
        return cls(weights, load_database(db_folder), device)

    @property
    def deterministic(self) -> bool:
        return True

    @property
    def no_noise(self) -> str:
        return (
            "RESAIL takes no noise: its image follows the retrieved segments that guide each region, "
            "so every re-roll of the noise would give the same image"
        )

    @torch.no_grad()
    def generate(
        self,
        labels: np.ndarray,
        noise: NoiseField,
        source: str = "label map",
        instances: np.ndarray | None = None,
        choices: Sequence[Choice] | None = None,
    ) -> np.ndarray:
        """H×W label ids (+ instance ids) → H×W×3 uint8; ``last_guidance`` keeps the guidance
        used and ``last_state`` what the retriever held for it.

        ``choices`` (e.g. a studio document's) replace the retriever's choices and pins,
        resolved against this map's segments, under the same lock as the synthesis."""
        h, w = labels.shape
        self.check_size(h, w, source)
        require_noise_fits(noise, h, w, self.z_dim, source)
        cond = self.condition(labels, instances, source)
        with self._lock:
            changed = self._changed_pixels(labels, instances)
            # Under a quarter of the last map's labels changed: an edit, not a new map; then
            # reshaped regions keep their guiding segments (``Retriever.update``).
            edit = changed is not None and float(np.mean(changed[0])) < EDIT_SHARE
            self.retriever.update(labels, instances, keep_looks=edit)
            if choices is not None:
                self.retriever.apply(choices)
            guidance = self.retriever.guidance()
            guide = guidance_to_tensor(guidance.image, guidance.valid)[None].to(self.device)
            old = self.last_guidance
            if changed is None or changed[1] is None or old is None:
                image = self.live(cond, guide, exact=True)
            else:
                guide_diff = (old.image != guidance.image).any(axis=2) | (old.valid != guidance.valid)
                image = self.live(cond, guide, bounding_box(changed[1]), bounding_box(guide_diff))
            self.last_guidance = guidance
            self.last_state = self.retriever.state(guidance)
            kept = None if instances is None else np.array(instances, copy=True)
            self._previous = (np.array(labels, copy=True), kept)
        return to_uint8_image(image)

    def _changed_pixels(
        self, labels: np.ndarray, instances: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Against the last call's map: (labels that differ, labels or instances that differ);
        None when the sizes differ, the second None when only one call had instances."""
        if self._previous is None or self._previous[0].shape != labels.shape:
            return None
        old_labels, old_instances = self._previous
        differ = old_labels != labels
        if (old_instances is None) != (instances is None):
            return differ, None
        if instances is None or old_instances is None:
            return differ, differ
        return differ, differ | (old_instances != instances)

    @torch.no_grad()
    def encode_photo(self, photo: np.ndarray) -> torch.Tensor:
        raise InputError(
            "RESAIL takes a region's look from retrieved segments, not from a photo's style code",
            source=str(self.weights.folder),
            fix="use an INADE, MSCA or SPADE (use_vae) model for style from a photo",
        )

    def segment(self, image: np.ndarray, work_size: int | None = None) -> np.ndarray:
        raise InputError(
            "RESAIL models cannot turn a photo into a label map",
            source=str(self.weights.folder),
            fix="open the photo with an OASIS model (its discriminator segments), then switch back",
        )
