"""Tools that read rather than paint: the eyedropper and the region picker."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.tools.base import Tool


class EyedropperTool(Tool):
    name, title, shortcut, icon = "eyedropper", "Eyedropper", "I", "fa5s.eye-dropper"
    tip = "Click a region to make its class the current one."

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        at = self.inside(y, x)
        if at is not None:
            self.ctx.pick_class(int(self.ctx.doc.labels[at]))


class RegionPickerTool(Tool):
    """Click: the instance under the cursor, else the class region. Shift: the whole class."""

    name, title, shortcut, icon = "picker", "Region picker", "V", "fa5s.mouse-pointer"
    tip = (
        "Click an object or region to select it for re-roll, variations and lock. "
        "Shift+click selects every pixel of that class; click outside the canvas to clear. "
        "RESAIL models: the region's retrieved segments appear under the result."
    )

    def press(self, y: float, x: float, modifiers: Qt.KeyboardModifier) -> None:
        at = self.inside(y, x)
        self.ctx.picked(at)
        if at is None:
            self.ctx.select(None, "")
            return
        doc = self.ctx.doc
        name = doc.label_set.by_id(int(doc.labels[at])).name
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            self.ctx.select(doc.scene.region_at(*at, kind="class"), f"all {name}")
            return
        instance = int(doc.instances[at])
        if not instance and self.ctx.per_instance():
            # INADE styles all of a class's pixels outside objects as one instance.
            mask = (doc.labels == doc.labels[at]) & (doc.instances == 0)
            self.ctx.select(mask, f"{name} (all, outside objects)")
            return
        kind = "instance" if instance else "component"
        what = f"{name} #{instance}" if instance else f"{name} region"
        self.ctx.select(doc.scene.region_at(*at, kind=kind), what)
