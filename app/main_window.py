"""The studio window: wiring only — the document, views, tools, panels and synthesis meet here.

Data flows one way: tools edit the Document; the Document's signals repaint the label
canvas and, through the SynthesisController, schedule synthesis; its results land in the
output view. No document state, rendering or request bookkeeping lives in this file.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import qtawesome as qta
from PySide6.QtCore import QByteArray, QEvent, QObject, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QTabBar, QTabWidget, QUndoView, QWidget

from app.actions import ICON_COLOR, make_action
from app.canvas.image_view import ImageView
from app.canvas.label_canvas import LabelCanvas
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.file_actions import FileActions
from app.guidance_actions import GuidanceActions
from app.panels.exemplars import ExemplarPanel
from app.panels.models import ModelPanel
from app.panels.palette import PalettePanel
from app.panels.status_bar import StudioStatusBar
from app.panels.style import StylePanel
from app.panels.tool_options import ToolOptionsPanel
from app.settings import user_weights_folder
from app.style_actions import StyleActions
from app.synthesis_controller import AnySynthesizer, SynthesisController
from app.tools.base import ToolContext
from app.tools.registry import TOOL_CLASSES, make_tools
from app.ugen_actions import UgenActions
from engine.errors import TesseraError
from engine.labels import LabelSet
from engine.paths import WEIGHTS
from engine.scene import Scene

ONE_STYLE = (
    "This model has one style for the whole image (ugen: one global z): re-roll and style act "
    "on all of it (Re-roll everything), never on one region or object"
)


class MainWindow(QMainWindow):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        weights_folders: list[Path] | None = None,
        settings: QSettings | None = None,
        model: Path | None = None,
        restore_session: bool = True,
        recovery_folder: Path | None = None,
        backend: str = "eager",
    ) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings("Tessera", "Tessera Studio")
        self.setWindowTitle("Tessera")
        self.setDockNestingEnabled(True)
        self.selection: np.ndarray | None = None

        self.doc = Document(LabelSet.builtin("landscapes"), (256, 256), parent=self)
        # The model, the worker and the requests; it watches the document and asks us for
        # the selection (variations) and the exemplars' style (MSCA), nothing else.
        self.synthesis = SynthesisController(
            self.doc,
            self.settings,
            backend=backend,
            selection=lambda: self.selection,
            exemplar_style=lambda: self.exemplars.style(),
            parent=self,
        )
        self.view_state = ViewState(self)
        self.canvas = LabelCanvas(self.view_state)
        self.canvas.setToolTip("")
        self.result_view = ImageView(self.view_state, smooth=True)
        self.result_view.placeholder = "The generated image appears here while you paint."
        self.result_view.setAcceptDrops(True)
        self.result_view.installEventFilter(self)

        self.ctx = ToolContext(
            document=lambda: self.doc,
            class_id=self.doc.label_set.classes[0].id,
            pick_class=lambda cid: self.palette_panel.choose(cid),
            select=self.set_selection,
            status=lambda text: self.statusBar().showMessage(text, 5000),
            per_instance=lambda: self.synth is not None and self.synth.family == "inade",
            picked=lambda at: self.guidance.pick(at),
        )
        self.tools = make_tools(self.ctx)

        self._build_panels(weights_folders or [WEIGHTS, user_weights_folder()])
        self.status_bar = StudioStatusBar()
        self.setStatusBar(self.status_bar)
        self.canvas.hovered.connect(self._hover)
        self.files = FileActions(self, recovery_folder)
        self.styles = StyleActions(self)
        self._build_actions()
        # The centre: the label map, and ugen's line drawing and proxy mask, as tabs.
        self.ugen = UgenActions(self, self.toolbar)
        self.setCentralWidget(self.ugen.tabs)
        self._attach_document(self.doc)
        self._attach_synthesis()

        self._restore_settings()
        start_model = model or self.synthesis.initial_model(self.models.entries)
        if start_model is not None:
            self.load_model(start_model)
        if restore_session:
            self.files.offer_recovery()
        if not self.doc.modified and self.doc.path is None:
            self.files.open_welcome_scene()
        self.setAcceptDrops(True)

    # ================================================================== building
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_panels(self, folders: list[Path]) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.guidance = GuidanceActions(self)  # the result and guidance tabs, the matches strip
        self.result_dock = self._dock("Result", self.guidance.panel, right, "result")
        self.result_dock.setToolTip("Drag the title bar out to float the result in its own window")
        self.palette_panel = PalettePanel()
        self.palette_panel.class_chosen.connect(self._class_chosen)
        self.palette_dock = self._dock("Palette", self.palette_panel, left, "palette")
        self.options = ToolOptionsPanel()
        self.options.size_changed.connect(self._size_changed)
        self.options.eraser_changed.connect(lambda cid: setattr(self.ctx, "eraser_class", cid))
        self.options.underlay_changed.connect(self._underlay_alpha)
        self.options.output_overlay_changed.connect(self._output_alpha)
        self.options.instances_toggled.connect(self._show_instances)
        self.options_dock = self._dock("Tool options", self.options, left, "options")
        self.style_panel = StylePanel()
        self.style_panel.reroll_all.clicked.connect(self.reroll_all)
        self.style_panel.reroll_selection.clicked.connect(self.reroll_selection)
        self.style_panel.lock.clicked.connect(lambda: self.lock_selection(True))
        self.style_panel.unlock.clicked.connect(lambda: self.lock_selection(False))
        self.style_panel.variations_button.clicked.connect(self.request_variations)
        self.style_panel.variation_chosen.connect(self.adopt_variation)
        self.style_panel.copy_style.clicked.connect(lambda: self.styles.copy())
        self.style_panel.paste_style.clicked.connect(lambda: self.styles.paste())
        self.style_panel.photo_style.clicked.connect(lambda: self.styles.from_photo())
        self.style_panel.seed_edited.connect(self._seed_edited)
        self.style_dock = self._dock("Style", self.style_panel, left, "style")
        self.exemplars = ExemplarPanel()
        self.exemplars.style_changed.connect(self._exemplars_changed)
        self.exemplars.photo_requested.connect(lambda second: self.styles.exemplar_photo(second=second))
        self.exemplars_dock = self._dock("Exemplars", self.exemplars, left, "exemplars")
        self.history = QUndoView()
        self.history.setEmptyLabel("Opened")
        self.history_dock = self._dock("History", self.history, left, "history")
        self.models = ModelPanel(folders)
        self.models.model_chosen.connect(lambda entry: self.load_model(entry.folder))
        self.models_dock = self._dock("Model", self.models, left, "models")
        # Left column: palette and options above, style / history / model as tabs below;
        # the result gets the whole right half, the same size as the canvas.
        self.tabifyDockWidget(self.style_dock, self.exemplars_dock)
        self.tabifyDockWidget(self.exemplars_dock, self.history_dock)
        self.tabifyDockWidget(self.history_dock, self.models_dock)
        self.style_dock.raise_()
        # Tabs on top, each title whole: at the bottom, elided, they read "Exem…", "Hi…", "M…".
        self.setTabPosition(Qt.DockWidgetArea.LeftDockWidgetArea, QTabWidget.TabPosition.North)
        self._docks_sized = False  # default dock sizes still to apply (once, on the first show)

    def _size_docks(self) -> None:
        """Default split of the left column: every class of the palette visible (up to ~16),
        the options whole, the tabbed panels the rest. Only meaningful once the window has
        its real size, so it runs after the first show; a restored layout is left alone."""
        rows = self.palette_panel.list.count()
        row = max(self.palette_panel.list.sizeHintForRow(0), 16) if rows else 20
        palette = min(rows, 16) * row + self.palette_panel.search.sizeHint().height() + 48
        options = self.options.minimumSizeHint().height()
        rest = max(self.height() - palette - options - 120, self.style_panel.minimumSizeHint().height())
        vertical = [self.palette_dock, self.options_dock, self.style_dock]
        self.resizeDocks(vertical, [palette, options, rest], Qt.Orientation.Vertical)
        self.resizeDocks([self.palette_dock, self.result_dock], [320, 560], Qt.Orientation.Horizontal)
        QTimer.singleShot(0, self.fit_views)  # the views changed size after their first fit

    def _unelide_dock_tabs(self) -> None:
        """QMainWindow makes its dock tab bars on demand; once shown, let them scroll, not elide."""
        for bar in self.findChildren(QTabBar):
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._unelide_dock_tabs()
        if not self._docks_sized:
            self._docks_sized = True
            QTimer.singleShot(0, self._size_docks)  # after the first layout pass

    def _build_actions(self) -> None:
        act = partial(make_action, self)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.files.populate(file_menu)
        self.quit_action = act("&Quit", self.close, "Ctrl+Q")
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit = menu.addMenu("&Edit")
        self.undo_action = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.redo_action = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action.setIcon(qta.icon("fa5s.undo", color=ICON_COLOR))
        self.redo_action.setIcon(qta.icon("fa5s.redo", color=ICON_COLOR))
        for action in (self.undo_action, self.redo_action):
            self.addAction(action)
            edit.addAction(action)
        edit.addSeparator()
        self.cancel_action = act("Cancel stroke", self._cancel_tool, "Escape")
        edit.addAction(self.cancel_action)
        edit.addAction(act("Deselect", lambda: self.set_selection(None, ""), "Ctrl+D"))

        tools_menu = menu.addMenu("&Tools")
        toolbar = self.toolbar = self.addToolBar("Tools")
        toolbar.setObjectName("tools")
        toolbar.setMovable(False)
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for cls in TOOL_CLASSES:
            action = act(
                cls.title,
                lambda _=False, n=cls.name: self.set_tool(n),
                cls.shortcut,
                cls.icon,
                f"{cls.title}: {cls.tip}",
            )
            action.setCheckable(True)
            self.tool_group.addAction(action)
            tools_menu.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[cls.name] = action
        tools_menu.addSeparator()
        self.smaller = act("Smaller brush", lambda: self._resize_brush(1 / 1.25), "[")
        self.bigger = act("Bigger brush", lambda: self._resize_brush(1.25), "]")
        tools_menu.addActions([self.smaller, self.bigger])
        for i in range(9):
            act(f"Recent class {i + 1}", lambda _=False, k=i: self.palette_panel.choose_recent(k), str(i + 1))
        toolbar.addSeparator()

        gen = menu.addMenu("&Generate")
        self.reroll_all_action = act(
            "Re-roll &everything",
            self.reroll_all,
            "Ctrl+R",
            "fa5s.dice",
            "New noise everywhere that is not locked",
        )
        self.reroll_sel_action = act(
            "Re-roll &selection",
            self.reroll_selection,
            "R",
            "fa5s.dice-one",
            "New noise for the selected region",
        )
        self.variations_action = act(
            "&Variations", self.request_variations, "Shift+R", "fa5s.th", "Show variations of the selection"
        )
        self.lock_action = act("&Lock selection", lambda: self.lock_selection(True), "Ctrl+L", "fa5s.lock")
        self.unlock_action = act(
            "&Unlock selection", lambda: self.lock_selection(False), "Ctrl+Shift+L", "fa5s.lock-open"
        )
        gen.addActions([self.reroll_all_action, self.reroll_sel_action, self.variations_action])
        gen.addSeparator()
        gen.addActions([self.lock_action, self.unlock_action])
        toolbar.addActions([self.reroll_all_action, self.reroll_sel_action, self.variations_action])

        view = menu.addMenu("&View")
        view.addAction(act("&Fit", self.fit_views, "Ctrl+0", "fa5s.expand"))
        view.addAction(act("&Actual size", self.view_state.actual_size, "Ctrl+1"))
        view.addAction(act("Zoom &in", lambda: self._zoom(1), QKeySequence.StandardKey.ZoomIn))
        view.addAction(act("Zoom &out", lambda: self._zoom(-1), QKeySequence.StandardKey.ZoomOut))
        self.single_view_action = act(
            "&Single view",
            self._single_view,
            "F6",
            "fa5s.clone",
            "One large canvas with the result under the labels",
        )
        self.single_view_action.setCheckable(True)
        view.addAction(self.single_view_action)
        view.addSeparator()
        for dock in (
            self.result_dock,
            self.palette_dock,
            self.options_dock,
            self.style_dock,
            self.exemplars_dock,
            self.history_dock,
            self.models_dock,
        ):
            view.addAction(dock.toggleViewAction())
        self.set_tool("brush")

    # ================================================================== document
    def _attach_document(self, doc: Document) -> None:
        """The views follow the document; synthesis follows it on its own (the controller)."""
        self.canvas.set_document(doc)
        doc.labels_changed.connect(self._labels_changed)
        doc.noise_changed.connect(lambda _: self._noise_changed())
        doc.lock_changed.connect(self._noise_changed)
        doc.reset.connect(self._doc_reset)
        doc.modified_changed.connect(self._update_title)
        doc.path_changed.connect(lambda _: self._update_title())
        self.history.setStack(doc.undo_stack)
        self._doc_reset()

    def _doc_reset(self) -> None:
        # The controller saw the reset first (it connected first): the old document's
        # requests count as shown, its output is gone and a new image is scheduled.
        self.palette_panel.set_label_set(self.doc.label_set, self.ctx.class_id)
        self.options.set_label_set(self.doc.label_set, self.ctx.eraser_class)
        self.set_selection(None, "")
        self.style_panel.clear_variations()
        self.style_panel.show_seeds(self.doc.noise)
        self.result_view.set_rgb(None)
        self.view_state.fit_pending = True
        self.fit_views()
        self._update_title()

    def _labels_changed(self, box: object) -> None:
        if self.selection is not None:  # the selected region may have moved under the brush
            self.selection = None
            self.canvas.set_selection(None)
            self.style_panel.set_selection_text("")

    def _noise_changed(self) -> None:
        self.style_panel.show_seeds(self.doc.noise)

    def _update_title(self, *_: object) -> None:
        name = self.doc.path.name if self.doc.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — Tessera")
        self.setWindowModified(self.doc.modified)

    def new_document(self, size: tuple[int, int], fill: int | None = None) -> None:
        h, w = size
        fill_id = fill if fill is not None else self.doc.label_set.classes[0].id
        self.doc.start(Scene.blank(h, w, fill_id))

    # ================================================================== model and synthesis
    @property
    def synth(self) -> AnySynthesizer | None:
        return self.synthesis.synth

    @property
    def output(self) -> np.ndarray | None:
        """The image shown for the current document (None until its first one lands)."""
        return self.synthesis.output

    @property
    def settled(self) -> bool:
        """No synthesis pending: the newest request's image (or error) is shown."""
        return self.synthesis.settled

    def _attach_synthesis(self) -> None:
        self.synthesis.image_ready.connect(self._show_image)
        self.synthesis.variations_ready.connect(self.style_panel.show_variations)
        self.synthesis.status.connect(self.status_bar.showMessage)
        self.synthesis.busy.connect(self.status_bar.show_busy)
        self.synthesis.model_changed.connect(self._model_changed)

    def load_model(self, folder: Path) -> bool:
        try:
            return self.synthesis.load_model(folder, confirm=self._switch_anyway)
        except TesseraError as error:
            QMessageBox.warning(self, "Cannot load model", str(error))
            return False

    def _switch_anyway(self, question: str) -> bool:
        """A model switch that loses classes asks first (a hidden window does not ask)."""
        if not self.isVisible():
            return True
        return QMessageBox.question(self, "Different classes", question) == QMessageBox.StandardButton.Yes

    def _model_changed(self, synth: AnySynthesizer) -> None:
        """The panels follow the model: photo styles, noise or exemplars, the model list."""
        photo_mode = "instance" if synth.family == "inade" else None
        if getattr(synth, "style_encoder", None) is not None and synth.family in ("oasis", "spade"):
            photo_mode = "scene"
        if synth.family == "ugen":  # by inverting the photo into the generator
            photo_mode = "scene"
        self.style_panel.set_photo_style(photo_mode)
        self.styles.copied = None  # a look of another model means nothing to this one
        # MSCA takes its style from exemplars, not from noise: one panel or the other.
        self.style_panel.setEnabled(synth.family != "msca")
        self._noise_controls(getattr(synth, "no_noise", ""))
        self._one_style_controls(ONE_STYLE if getattr(synth, "global_style", False) else "")
        self.exemplars.setEnabled(synth.family == "msca")
        self.exemplars.setToolTip(
            ""
            if synth.family == "msca"
            else "Exemplars style example-guided models: pick landscapes-msca in Model"
        )
        if synth.family == "msca":
            self.exemplars.set_label_set(synth.spec.label_set)
            self.exemplars_dock.raise_()
        self.guidance.model_changed(synth)
        self.ugen.model_changed(synth)
        self.guidance.take_rerolls(self.reroll_all_action, self.reroll_sel_action)
        self.models.mark_current(self.synthesis.model_folder)
        self.status_bar.show_model(self.synthesis.backend_text)

    def _noise_controls(self, why: str) -> None:
        """Re-roll, variations and the seed panel are off, saying ``why``, for a model that
        takes no noise (every seed would give the same image); on again otherwise."""
        if why:
            self.style_panel.setEnabled(False)
        self.style_panel.setToolTip(why)
        for action in (self.reroll_all_action, self.reroll_sel_action, self.variations_action):
            if action.property("noise_tip") is None:
                action.setProperty("noise_tip", action.toolTip())
            action.setEnabled(not why)
            action.setToolTip(why or action.property("noise_tip"))

    def _one_style_controls(self, why: str) -> None:
        """Region re-roll, locks, copy/paste style and the instance brush are off, saying
        ``why``, for a model with one style for the whole image; on again otherwise."""
        self.style_panel.set_one_style(why)
        instance = self.tool_actions["instance"]
        for action in (self.reroll_sel_action, self.lock_action, self.unlock_action, instance):
            if action.property("region_tip") is None:
                action.setProperty("region_tip", action.toolTip())
            if why:
                action.setEnabled(False)
                action.setToolTip(why)
            elif action is not self.reroll_sel_action:  # _noise_controls already restored that one
                action.setEnabled(True)
                action.setToolTip(action.property("region_tip"))
        if why and instance.isChecked():
            self.set_tool("brush")

    def _show_image(self, image: np.ndarray, ms: float, latency_ms: float) -> None:
        self.result_view.set_rgb(image)
        self.canvas.set_output(image)
        self.status_bar.show_latency(ms, latency_ms)
        self.status_bar.show_model(self.synthesis.backend_text)  # "auto" may have picked another

    # ================================================================== selection and style
    def set_selection(self, mask: np.ndarray | None, text: str) -> None:
        self.selection = mask if mask is not None and mask.any() else None
        self.canvas.set_selection(self.selection)
        self.style_panel.set_selection_text(text if self.selection is not None else "")
        self.synthesis.clear_variations()
        self.style_panel.clear_variations()

    def reroll_all(self) -> None:
        if self.guidance.active:  # RESAIL: other retrieved segments, not other noise
            self.guidance.reroll_all()
            return
        seed = self.doc.reroll(None)
        self.statusBar().showMessage(f"Re-rolled everything not locked (seed {seed})", 4000)

    def reroll_selection(self) -> None:
        if self.guidance.active:
            self.guidance.reroll()
            return
        if self.selection is None:
            self.statusBar().showMessage("Select a region first: region picker (V), then click.", 4000)
            return
        seed = self.doc.reroll(self.selection, text="Re-roll selection")
        self.statusBar().showMessage(f"Re-rolled the selection (seed {seed})", 4000)

    def lock_selection(self, value: bool) -> None:
        if self.selection is None:
            return
        self.doc.set_locked(self.selection, value, "Lock" if value else "Unlock")

    def request_variations(self) -> None:
        self.synthesis.request_variations(self.style_panel.count.value())

    def adopt_variation(self, index: int) -> None:
        self.synthesis.adopt_variation(index)

    def _exemplars_changed(self) -> None:
        if hasattr(self, "files"):
            self.files.autosaver.note_change()  # exemplars live outside the undo stack
        self.synthesis.exemplars_changed()

    def _seed_edited(self, region_id: int, seed: int) -> None:
        try:
            self.doc.set_region_seed(region_id, seed)
        except TesseraError as error:
            self.statusBar().showMessage(str(error), 5000)

    # ================================================================== tools
    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(self.tools[name])
        self.tool_actions[name].setChecked(True)
        self.statusBar().showMessage(f"{self.tools[name].title}: {self.tools[name].tip}", 4000)

    def _cancel_tool(self) -> None:
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.ugen.cancel_strokes()  # a pen, depth or proxy stroke on ugen's tabs
        self.canvas.update()

    def _class_chosen(self, class_id: int) -> None:
        self.ctx.class_id = class_id

    def _size_changed(self, size: int) -> None:
        self.ctx.brush_size = size
        self.canvas.update()

    def _resize_brush(self, factor: float) -> None:
        size = self.options.size()
        # At least one pixel per step, so small brushes still change size.
        new = max(size + 1, round(size * factor)) if factor > 1 else min(size - 1, round(size * factor))
        self.options.set_size(new)

    def fit_views(self) -> None:
        """Zoom so the picture fits both the canvas and the result view (they share zoom)."""
        h, w = self.doc.size
        self.view_state.fit_views(w, h)

    def _zoom(self, steps: int) -> None:
        self.view_state.zoom_about(steps, self.view_state.center, QPointF(0, 0))  # about the view centre

    def _single_view(self, on: bool) -> None:
        """One big view: hide the result dock and show the result through the labels instead."""
        if on:
            self._overlay_before = self.options.overlay.value()
            self.result_dock.hide()
            self.options.overlay.setValue(max(self._overlay_before, 65))
        else:
            self.result_dock.show()
            self.options.overlay.setValue(getattr(self, "_overlay_before", 0))
        self.fit_views()

    def _underlay_alpha(self, alpha: float) -> None:
        self.canvas.underlay_alpha = alpha
        self.canvas.rebuild()

    def _output_alpha(self, alpha: float) -> None:
        self.canvas.output_alpha = alpha
        self.canvas.rebuild()

    def _show_instances(self, on: bool) -> None:
        self.canvas.show_instances = on
        self.canvas.rebuild()

    def _hover(self, y: float, x: float) -> None:
        h, w = self.doc.size
        iy, ix = int(y), int(x)
        if 0 <= iy < h and 0 <= ix < w and y >= 0 and x >= 0:
            cls = self.doc.label_set.by_id(int(self.doc.labels[iy, ix]))
            inst = int(self.doc.instances[iy, ix])
            self.status_bar.show_cursor(f"{ix}, {iy} · {cls.name}{f' #{inst}' if inst else ''}")
        else:
            self.status_bar.show_cursor("")

    # ================================================================== settings and closing
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        state = self.settings.value("state")
        if isinstance(state, QByteArray) and self.restoreState(state):
            self._docks_sized = True  # the user's own layout
        self.options.set_size(int(self.settings.value("brush_size", 24)))

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("brush_size", self.options.size())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self._save_settings()
        self.files.shutdown()
        self.synthesis.stop()  # waits for the synthesis in flight, never longer than its timeout
        event.accept()

    # ================================================================== drag and drop
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Photos and gallery thumbnails dropped on the result view may restyle the painting
        (StyleActions.drop_on_result); other drops go to the window (open the file)."""
        drag = event.type() in (QEvent.Type.DragEnter, QEvent.Type.Drop)
        if drag and watched is self.result_view and self.styles.drop_on_result(event):
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.files.open_any(Path(url.toLocalFile()))
                break
