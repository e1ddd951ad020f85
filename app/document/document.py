"""The painting document: scene, noise, locks, guidance choices and model, with an undo history.

ugen's condition (mode, line drawing, depth map, edited proxy mask) lives beside it in ``conditions``
(:mod:`app.document.conditions`), on the same undo stack.

Everything a user can change goes through here, so that every change is one undo step,
marks the document modified and tells the views (through signals) which rectangle
changed. Tools paint in place during a stroke (the canvas must follow the brush without
copying whole maps); :meth:`Document.end_edit` then records the stroke as one diff patch.

Only QtCore/QtGui are used (QUndoStack lives in QtGui), so documents work headless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document.conditions import ConditionLayers
from app.document.modes import LABELS
from app.document.patches import BBox, MapPatch, union
from engine.errors import InputError
from engine.labels import LabelSet
from engine.noise import DEFAULT_Z_DIM, NoiseField, random_seed
from engine.retrieval.choices import Choices
from engine.scene import Scene


class _NoisePatch:
    """Noise before/after an edit: the changed rectangle of the region map + both region tables."""

    def __init__(self, before: NoiseField, after: NoiseField) -> None:
        old_map, self.old_meta = before.to_state()
        new_map, self.new_meta = after.to_state()
        self.maps = MapPatch.between(old_map, new_map)

    def apply(self, noise: NoiseField, forward: bool) -> NoiseField:
        region_map, _ = noise.to_state()
        if self.maps is not None:
            self.maps.apply(region_map, forward)
        return NoiseField.from_state(region_map, self.new_meta if forward else self.old_meta)


class _EditCommand(QUndoCommand):
    """One undo step: patches of labels/instances/locks and optionally of the noise."""

    def __init__(
        self,
        doc: Document,
        text: str,
        maps: dict[str, MapPatch],
        noise: _NoisePatch | None,
        applied: bool,
    ) -> None:
        super().__init__(text)
        self.doc, self.maps, self.noise = doc, maps, noise
        self._skip_redo = applied  # the edit already happened live (a stroke)

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.doc._apply(self.maps, self.noise, forward=True)

    def undo(self) -> None:
        self.doc._apply(self.maps, self.noise, forward=False)


class _GuidanceCommand(QUndoCommand):
    """One undo step: the retrieval-guided model's choices before and after (a few entries)."""

    def __init__(self, doc: Document, text: str, before: Choices, after: Choices) -> None:
        super().__init__(text)
        self.doc, self.before, self.after = doc, before, after

    def redo(self) -> None:
        self.doc._set_guidance(self.after)

    def undo(self) -> None:
        self.doc._set_guidance(self.before)


class Document(QObject):
    """A scene being painted. Arrays are owned here; views read them, tools edit via methods."""

    labels_changed = Signal(object)  # BBox (y0, x0, y1, x1) of changed labels/instances
    noise_changed = Signal(object)  # BBox of changed noise, or None for "anywhere"
    lock_changed = Signal()
    style_mask_changed = Signal()  # where an example-guided model uses its second exemplar
    guidance_changed = Signal()  # which retrieved segment guides which region (RESAIL)
    reset = Signal()  # size, label set or whole content replaced: rebuild views
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None

    def __init__(
        self,
        label_set: LabelSet,
        size: tuple[int, int] = (256, 256),
        *,
        fill: int | None = None,
        z_dim: int = DEFAULT_Z_DIM,
        seed: int | None = None,
        model: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        h, w = size
        self.label_set = label_set
        fill_id = fill if fill is not None else label_set.classes[0].id
        if fill_id not in label_set:
            raise InputError(f"class id {fill_id} is not in label set '{label_set.name}'", source="fill")
        self.scene = Scene.blank(h, w, fill_id)
        self.noise = NoiseField.uniform(h, w, random_seed() if seed is None else seed, z_dim)
        self.locked = np.zeros((h, w), bool)
        self.style_mask = np.zeros((h, w), bool)
        # RESAIL: the database segment the painter chose for a region (else its best match).
        self.guidance: Choices = ()
        self.model_name = model
        self.path: Path | None = None
        self.underlay: np.ndarray | None = None  # photo shown faintly under the labels (saved in projects)
        self.undo_stack = QUndoStack(self)
        # A bound method, not a lambda: Qt drops it cleanly when the document is destroyed.
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.conditions = ConditionLayers(self.undo_stack, (h, w), parent=self)
        self._edit: tuple[np.ndarray, np.ndarray] | None = None
        self._edit_box: BBox | None = None

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    # ------------------------------------------------------------------ queries
    @property
    def size(self) -> tuple[int, int]:
        return self.scene.size

    @property
    def labels(self) -> np.ndarray:
        return self.scene.labels

    @property
    def instances(self) -> np.ndarray:
        return self.scene.instances

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def editing(self) -> bool:
        return self._edit is not None

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()
        self.path_changed.emit(self.path)

    # ------------------------------------------------------------------ strokes
    def begin_edit(self) -> None:
        """Start a live edit (a stroke): later :meth:`paint` calls become one undo step."""
        if self._edit is None:
            self._edit = (self.scene.labels.copy(), self.scene.instances.copy())
            self._edit_box = None

    def paint(self, box: BBox, mask: np.ndarray, class_id: int, instance_id: int = 0) -> None:
        """Set ``class_id``/``instance_id`` where the local ``mask`` (shaped like ``box``) is true."""
        if class_id not in self.label_set:
            raise InputError(f"class id {class_id} is not in label set '{self.label_set.name}'")
        self.begin_edit()
        y0, x0, y1, x1 = box
        self.scene.labels[y0:y1, x0:x1][mask] = class_id
        self.scene.instances[y0:y1, x0:x1][mask] = instance_id
        self._edit_box = union(self._edit_box, box)
        self.labels_changed.emit(box)

    def end_edit(self, text: str) -> bool:
        """Close the live edit; push it as one undo step. False when nothing changed."""
        if self._edit is None:
            return False
        (old_labels, old_instances), box = self._edit, self._edit_box
        self._edit, self._edit_box = None, None
        if box is None:
            return False
        maps = {
            "labels": MapPatch.between(old_labels, self.scene.labels, box),
            "instances": MapPatch.between(old_instances, self.scene.instances, box),
        }
        kept = {k: p for k, p in maps.items() if p is not None}
        if not kept:
            return False
        with self.conditions.returning_to_map(text, LABELS):
            self.undo_stack.push(_EditCommand(self, text, kept, None, applied=True))
        return True

    def cancel_edit(self) -> None:
        """Throw the live edit away (Escape during a stroke)."""
        if self._edit is None:
            return
        (old_labels, old_instances), box = self._edit, self._edit_box
        self._edit, self._edit_box = None, None
        self.scene.labels[...] = old_labels
        self.scene.instances[...] = old_instances
        if box is not None:
            self.labels_changed.emit(box)

    # ------------------------------------------------------------------ whole edits
    def set_maps(
        self, text: str, labels: np.ndarray | None = None, instances: np.ndarray | None = None
    ) -> bool:
        """Replace labels and/or instances (same size) as one undo step."""
        maps: dict[str, MapPatch] = {}
        for name, new in (("labels", labels), ("instances", instances)):
            if new is None:
                continue
            current = getattr(self.scene, name)
            if new.shape != current.shape:
                raise InputError(
                    f"the new {name} are {new.shape[1]}×{new.shape[0]}, the canvas is "
                    f"{current.shape[1]}×{current.shape[0]}",
                    fix="resize the map to the canvas, or start a new document of its size",
                )
            patch = MapPatch.between(current, new.astype(current.dtype))
            if patch is not None:
                maps[name] = patch
        if not maps:
            return False
        with self.conditions.returning_to_map(text, LABELS):
            self.undo_stack.push(_EditCommand(self, text, maps, None, applied=False))
        return True

    def rerolled(self, mask: np.ndarray | None, seed: int) -> NoiseField | None:
        """The noise a re-roll of ``mask`` (None: everything) with ``seed`` gives; None if nothing changes.

        Locked pixels keep their noise. The variations strip previews exactly this field,
        so adopting a thumbnail reproduces it.
        """
        target = ~self.locked if mask is None else mask & ~self.locked
        after = self.noise.copy()
        if mask is None and not self.locked.any():
            after.resample_all(seed)
        elif target.any():
            after.resample(target, seed)
        else:
            return None
        return after

    def reroll(self, mask: np.ndarray | None = None, seed: int | None = None, text: str = "") -> int:
        """New noise for ``mask`` (None: everywhere not locked). Returns the seed used."""
        seed = random_seed() if seed is None else seed
        after = self.rerolled(mask, seed)
        if after is not None:
            self._push_noise(after, text or ("Re-roll everything" if mask is None else "Re-roll region"))
        return seed

    def set_region_seed(self, region_id: int, seed: int) -> None:
        """Give one noise region a typed-in seed (the style panel's seed field)."""
        mask = self.noise.region_map == region_id
        if not mask.any():
            raise InputError(f"noise region {region_id} is not on the canvas")
        after = self.noise.copy()
        after.resample(mask, seed)
        self._push_noise(after, f"Set seed {seed}")

    def set_noise(self, noise: NoiseField, text: str) -> None:
        """Adopt a prepared noise field (e.g. a variation the user clicked)."""
        if noise.size != self.size or noise.z_dim != self.noise.z_dim:
            raise InputError("the noise field does not match this canvas", fix="make it for this document")
        self._push_noise(noise.copy(), text)

    def set_locked(self, mask: np.ndarray, value: bool, text: str) -> bool:
        new = self.locked.copy()
        new[mask] = value
        patch = MapPatch.between(self.locked, new)
        if patch is None:
            return False
        self.undo_stack.push(_EditCommand(self, text, {"locked": patch}, None, applied=False))
        return True

    def set_style_mask(self, mask: np.ndarray, value: bool, text: str) -> bool:
        """Mark (or clear) where the second exemplar's style applies (MSCA's spatial blend)."""
        new = self.style_mask.copy()
        new[mask] = value
        patch = MapPatch.between(self.style_mask, new)
        if patch is None:
            return False
        self.undo_stack.push(_EditCommand(self, text, {"style_mask": patch}, None, applied=False))
        return True

    def set_guidance(self, choices: Choices, text: str) -> bool:
        """Adopt new guidance choices (choose, pin, re-roll a region's match) as one undo step."""
        if tuple(choices) == self.guidance:
            return False
        self.undo_stack.push(_GuidanceCommand(self, text, self.guidance, tuple(choices)))
        return True

    def _set_guidance(self, choices: Choices) -> None:
        self.guidance = choices
        self.guidance_changed.emit()

    def _push_noise(self, after: NoiseField, text: str) -> None:
        patch = _NoisePatch(self.noise, after)
        with self.conditions.restyling(text):
            self.undo_stack.push(_EditCommand(self, text, {}, patch, applied=False))

    # ------------------------------------------------------------------ replacing everything
    def replace(
        self,
        scene: Scene,
        noise: NoiseField,
        *,
        label_set: LabelSet | None = None,
        locked: np.ndarray | None = None,
        model: str | None = None,
        path: Path | None = None,
        underlay: np.ndarray | None = None,
        style_mask: np.ndarray | None = None,
        guidance: Choices = (),
        condition: str = LABELS,
        lines: np.ndarray | None = None,
        depth: np.ndarray | None = None,
        proxy: np.ndarray | None = None,
        style_w: np.ndarray | None = None,
    ) -> None:
        """Load new content (open, new, resize): clears history and rebuilds views.
        ``condition``, ``lines``, ``depth``, ``proxy`` and ``style_w``: ugen's (see ConditionLayers)."""
        if noise.size != scene.size:
            raise InputError("noise and scene sizes differ", fix="the project file is damaged")
        self.cancel_edit()
        self.label_set = label_set or self.label_set
        self.scene, self.noise = scene, noise
        self.locked = np.zeros(scene.size, bool) if locked is None else locked.astype(bool)
        self.style_mask = np.zeros(scene.size, bool) if style_mask is None else style_mask.astype(bool)
        self.guidance = tuple(guidance)
        self.model_name = model if model is not None else self.model_name
        self.underlay = underlay
        self.undo_stack.clear()
        self.conditions.reset(
            scene.size, mode=condition, lines=lines, depth=depth, proxy=proxy, style_w=style_w
        )
        self.path = path
        self.reset.emit()
        self.path_changed.emit(path)
        self.modified_changed.emit(False)

    def start(
        self,
        scene: Scene,
        *,
        z_dim: int | None = None,
        label_set: LabelSet | None = None,
        model: str | None = None,
        underlay: np.ndarray | None = None,
    ) -> None:
        """Untitled new content with fresh noise (new canvas, imported map, segmented photo, new model)."""
        h, w = scene.size
        noise = NoiseField.uniform(h, w, random_seed(), z_dim or self.noise.z_dim)
        self.replace(scene, noise, label_set=label_set, model=model, path=None, underlay=underlay)

    # ------------------------------------------------------------------ undo plumbing
    def _apply(self, maps: dict[str, MapPatch], noise: _NoisePatch | None, forward: bool) -> None:
        self.cancel_edit()
        box: BBox | None = None
        masks = {"locked": self.locked, "style_mask": self.style_mask}
        for name, patch in maps.items():
            patch.apply(masks[name] if name in masks else getattr(self.scene, name), forward)
            if name not in masks:
                box = union(box, patch.bbox)
        if box is not None:
            self.labels_changed.emit(box)
        if "locked" in maps:
            self.lock_changed.emit()
        if "style_mask" in maps:
            self.style_mask_changed.emit()
        if noise is not None:
            self.noise = noise.apply(self.noise, forward)
            self.noise_changed.emit(noise.maps.bbox if noise.maps is not None else None)
