"""The studio window: wiring only — the document, views, tools, panels and the worker meet here.

Data flows one way: tools edit the Document; the Document's signals repaint the label
canvas and schedule synthesis; the worker's results land in the output view. No
document state or rendering code lives in this file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import qtawesome as qta
from PySide6.QtCore import QByteArray, QEvent, QObject, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabBar,
    QTabWidget,
    QUndoView,
    QWidget,
)

from app.canvas.image_view import ImageView
from app.canvas.label_canvas import LabelCanvas
from app.canvas.view_state import ViewState
from app.document.document import Document
from app.document.remap import remap_by_name
from app.file_actions import FileActions
from app.panels.exemplars import EXEMPLAR_MIME, ExemplarPanel
from app.panels.models import ModelPanel
from app.panels.palette import PalettePanel
from app.panels.style import StylePanel
from app.panels.tool_options import ToolOptionsPanel
from app.settings import user_weights_folder
from app.style_actions import StyleActions
from app.tools.base import ToolContext
from app.tools.registry import TOOL_CLASSES, make_tools
from app.workers.synthesis import SynthesisWorker
from engine.errors import InputError, TesseraError
from engine.inference.inade_synth import InadeSynthesizer
from engine.inference.live import LiveSynthesis
from engine.inference.msca_synth import MscaSynthesizer, StyleMix
from engine.inference.open import open_synthesizer
from engine.inference.synthesizer import Synthesizer
from engine.labels import LabelSet
from engine.noise import NoiseField, random_seed
from engine.paths import RESOURCES, WEIGHTS

DEFAULT_MODEL = "landscapes-oasis"
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
STROKE_THROTTLE_MS = 60  # while a stroke is in progress, at most ~16 requests a second


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
        self.backend = backend  # "auto" measures the backends once per size and keeps the fastest
        self.settings = settings or QSettings("Tessera", "Tessera Studio")
        self.setWindowTitle("Tessera")
        self.setDockNestingEnabled(True)
        self.synth: Synthesizer | InadeSynthesizer | MscaSynthesizer | None = None
        self.model_folder: Path | None = None
        self.output: np.ndarray | None = None
        self.selection: np.ndarray | None = None
        self.variation_seeds: list[int] = []
        self.shown_request = 0
        self.requested = 0  # id of the newest image request (variations have their own ids)
        # When the painter last changed something, and for the last few requests the change
        # they answer: the status bar shows change → pixels, not only the synthesis.
        self._changed_at = time.perf_counter()
        self._change_times: dict[int, float] = {}
        self.last_latency_ms: float | None = None
        self.dropped_results = 0
        self.last_ms: float | None = None

        self.doc = Document(LabelSet.builtin("landscapes"), (256, 256), parent=self)
        self.view_state = ViewState(self)
        self.canvas = LabelCanvas(self.view_state)
        self.canvas.setToolTip("")
        self.result_view = ImageView(self.view_state, smooth=True)
        self.result_view.placeholder = "The generated image appears here while you paint."
        self.result_view.setAcceptDrops(True)
        self.result_view.installEventFilter(self)
        self.setCentralWidget(self.canvas)

        self.worker = SynthesisWorker()
        self.worker.image_ready.connect(self._image_ready)
        self.worker.variations_ready.connect(self._variations_ready)
        self.worker.failed.connect(self._failed)
        self.worker.busy_changed.connect(self._busy)
        self.worker.start()
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.synthesize)

        self.ctx = ToolContext(
            document=lambda: self.doc,
            class_id=self.doc.label_set.classes[0].id,
            pick_class=lambda cid: self.palette_panel.choose(cid),
            select=self.set_selection,
            status=lambda text: self.statusBar().showMessage(text, 5000),
            per_instance=lambda: self.synth is not None and self.synth.family == "inade",
        )
        self.tools = make_tools(self.ctx)

        self._build_panels(weights_folders or [WEIGHTS, user_weights_folder()])
        self._build_status_bar()
        self.files = FileActions(self, recovery_folder)
        self.styles = StyleActions(self)
        self._build_actions()
        self._attach_document(self.doc)

        self._restore_settings()
        start_model = model or self._initial_model()
        if start_model is not None:
            self.load_model(start_model)
        if restore_session:
            self.files.offer_recovery()
        if not self.doc.modified and self.doc.path is None:
            self._open_welcome_scene()
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
        self.result_dock = self._dock("Result", self.result_view, right, "result")
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
        self.resizeDocks(
            [self.palette_dock, self.options_dock, self.style_dock], [330, 170, 400], Qt.Orientation.Vertical
        )
        self.resizeDocks([self.palette_dock, self.result_dock], [320, 560], Qt.Orientation.Horizontal)

    def _unelide_dock_tabs(self) -> None:
        """QMainWindow makes its dock tab bars on demand; once shown, let them scroll, not elide."""
        for bar in self.findChildren(QTabBar):
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._unelide_dock_tabs()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: "working"
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(12)
        self.busy.setVisible(False)
        self.time_label = QLabel("—")
        self.time_label.setToolTip("Time of the last synthesis")
        self.backend_label = QLabel("no model")
        self.cursor_label = QLabel("")
        for widget in (self.cursor_label, self.busy, self.time_label, self.backend_label):
            bar.addPermanentWidget(widget)
        self.canvas.hovered.connect(self._hover)

    def _action(
        self,
        text: str,
        slot: Callable[..., object],
        shortcut: str | QKeySequence | None = None,
        icon: str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if icon:
            action.setIcon(qta.icon(icon, color="#dddddd"))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        label = tip or text.replace("&", "")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{label} ({keys})" if keys else label)
        action.setStatusTip(label)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.files.populate(file_menu)
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit = menu.addMenu("&Edit")
        self.undo_action = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.redo_action = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action.setIcon(qta.icon("fa5s.undo", color="#dddddd"))
        self.redo_action.setIcon(qta.icon("fa5s.redo", color="#dddddd"))
        for action in (self.undo_action, self.redo_action):
            self.addAction(action)
            edit.addAction(action)
        edit.addSeparator()
        self.cancel_action = self._action("Cancel stroke", self._cancel_tool, "Escape")
        edit.addAction(self.cancel_action)
        edit.addAction(self._action("Deselect", lambda: self.set_selection(None, ""), "Ctrl+D"))

        tools_menu = menu.addMenu("&Tools")
        toolbar = self.addToolBar("Tools")
        toolbar.setObjectName("tools")
        toolbar.setMovable(False)
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for cls in TOOL_CLASSES:
            action = self._action(
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
        self.smaller = self._action("Smaller brush", lambda: self._resize_brush(1 / 1.25), "[")
        self.bigger = self._action("Bigger brush", lambda: self._resize_brush(1.25), "]")
        tools_menu.addActions([self.smaller, self.bigger])
        for i in range(9):
            self._action(
                f"Recent class {i + 1}", lambda _=False, k=i: self.palette_panel.choose_recent(k), str(i + 1)
            )
        toolbar.addSeparator()

        gen = menu.addMenu("&Generate")
        self.reroll_all_action = self._action(
            "Re-roll &everything",
            self.reroll_all,
            "Ctrl+R",
            "fa5s.dice",
            "New noise everywhere that is not locked",
        )
        self.reroll_sel_action = self._action(
            "Re-roll &selection",
            self.reroll_selection,
            "R",
            "fa5s.dice-one",
            "New noise for the selected region",
        )
        self.variations_action = self._action(
            "&Variations", self.request_variations, "Shift+R", "fa5s.th", "Show variations of the selection"
        )
        self.lock_action = self._action(
            "&Lock selection", lambda: self.lock_selection(True), "Ctrl+L", "fa5s.lock"
        )
        self.unlock_action = self._action(
            "&Unlock selection", lambda: self.lock_selection(False), "Ctrl+Shift+L", "fa5s.lock-open"
        )
        gen.addActions([self.reroll_all_action, self.reroll_sel_action, self.variations_action])
        gen.addSeparator()
        gen.addActions([self.lock_action, self.unlock_action])
        toolbar.addActions([self.reroll_all_action, self.reroll_sel_action, self.variations_action])

        view = menu.addMenu("&View")
        view.addAction(self._action("&Fit", self.fit_views, "Ctrl+0", "fa5s.expand"))
        view.addAction(self._action("&Actual size", self.view_state.actual_size, "Ctrl+1"))
        view.addAction(self._action("Zoom &in", lambda: self._zoom(1), QKeySequence.StandardKey.ZoomIn))
        view.addAction(self._action("Zoom &out", lambda: self._zoom(-1), QKeySequence.StandardKey.ZoomOut))
        self.single_view_action = self._action(
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
        self.canvas.set_document(doc)
        doc.labels_changed.connect(self._labels_changed)
        doc.noise_changed.connect(lambda _: self._noise_changed())
        doc.lock_changed.connect(self._noise_changed)
        doc.reset.connect(self._doc_reset)
        doc.modified_changed.connect(self._update_title)
        doc.path_changed.connect(lambda _: self._update_title())
        doc.undo_stack.indexChanged.connect(lambda _: self.schedule(0))
        self.history.setStack(doc.undo_stack)
        self._doc_reset()

    def _doc_reset(self) -> None:
        self.palette_panel.set_label_set(self.doc.label_set, self.ctx.class_id)
        self.options.set_label_set(self.doc.label_set, self.ctx.eraser_class)
        self.set_selection(None, "")
        self.style_panel.clear_variations()
        self.style_panel.show_seeds(self.doc.noise)
        self.output = None
        self.result_view.set_rgb(None)
        # Results of requests made for the old document must never become the new one's image
        # (nor its autosaved render): everything asked for so far counts as shown.
        self.shown_request = max(self.shown_request, self.requested)
        self.view_state.fit_pending = True
        self.fit_views()
        self._update_title()
        self.schedule(0)

    def _labels_changed(self, box: object) -> None:
        if self.selection is not None:  # the selected region may have moved under the brush
            self.selection = None
            self.canvas.set_selection(None)
            self.style_panel.set_selection_text("")
        self.schedule(STROKE_THROTTLE_MS if self.doc.editing else 0)

    def _noise_changed(self) -> None:
        self.style_panel.show_seeds(self.doc.noise)
        self.schedule(0)

    def _update_title(self, *_: object) -> None:
        name = self.doc.path.name if self.doc.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — Tessera")
        self.setWindowModified(self.doc.modified)

    def _open_welcome_scene(self) -> None:
        """A new user sees a landscape at once: the sample scene, untitled, ready to paint over."""
        scene_file = RESOURCES / "scenes" / "mountain_lake.png"
        if scene_file.is_file() and self.doc.label_set.name == "landscapes":
            try:
                self.files.import_label_map(scene_file, as_new=True, title=False)
            except TesseraError:
                pass

    def new_document(self, size: tuple[int, int], fill: int | None = None) -> None:
        from engine.scene import Scene

        h, w = size
        fill_id = fill if fill is not None else self.doc.label_set.classes[0].id
        self.doc.start(Scene.blank(h, w, fill_id))

    # ================================================================== model
    def _initial_model(self) -> Path | None:
        remembered = self.settings.value("model")
        candidates = [Path(remembered)] if remembered else []
        candidates.append(WEIGHTS / DEFAULT_MODEL)
        for folder in candidates:
            entry = self.models.entry_for(folder.resolve()) if folder.exists() else None
            if entry is not None and entry.usable:
                return entry.folder
        usable = [e for e in self.models.entries if e.usable]
        return usable[0].folder if usable else None

    def load_model(self, folder: Path) -> bool:
        try:
            synth = open_synthesizer(folder, segmenter=True, backend=self.backend)
        except TesseraError as error:
            QMessageBox.warning(self, "Cannot load model", str(error))
            return False
        spec = synth.spec
        # The worker gets the new model before the document restarts, so no request made
        # for the new document runs on the old model (or the reverse).
        restart: Callable[[], None] | None = None
        if spec.label_set != self.doc.label_set:
            labels, lost = remap_by_name(self.doc.labels, self.doc.label_set, spec.label_set)
            if lost and self.isVisible():
                answer = QMessageBox.question(
                    self,
                    "Different classes",
                    f"'{folder.name}' has no class for: {', '.join(lost[:12])}. "
                    f"Those areas become '{spec.label_set.classes[0].name}'. Switch anyway?",
                )
                if answer != QMessageBox.StandardButton.Yes:
                    return False
            from engine.scene import Scene

            scene = Scene(labels)

            underlay = self.doc.underlay  # the photo a painting came from stays under it

            def restart() -> None:
                self.doc.start(
                    scene, z_dim=synth.z_dim, label_set=spec.label_set, model=folder.name, underlay=underlay
                )

        elif synth.z_dim != self.doc.noise.z_dim:

            def restart() -> None:
                self.doc.start(
                    self.doc.scene, z_dim=synth.z_dim, model=folder.name, underlay=self.doc.underlay
                )

        self.synth = synth
        self.model_folder = Path(folder).resolve()
        self.worker.set_generator(*self._generate_fns(synth))
        if restart is not None:
            restart()
        self.doc.model_name = folder.name
        photo_mode = "instance" if synth.family == "inade" else None
        if getattr(synth, "style_encoder", None) is not None and synth.family == "oasis":
            photo_mode = "scene"
        self.style_panel.set_photo_style(photo_mode)
        self.styles.copied = None  # a look of another model means nothing to this one
        # MSCA takes its style from exemplars, not from noise: one panel or the other.
        self.style_panel.setEnabled(synth.family != "msca")
        self.exemplars.setEnabled(synth.family == "msca")
        self.exemplars.setToolTip(
            ""
            if synth.family == "msca"
            else "Exemplars style example-guided models: pick landscapes-msca in Model"
        )
        if synth.family == "msca":
            self.exemplars.set_label_set(spec.label_set)
            self.exemplars_dock.raise_()
        self.models.mark_current(self.model_folder)
        self._show_backend()
        self.settings.setValue("model", str(self.model_folder))
        self.schedule(0)
        return True

    def _show_backend(self) -> None:
        if self.synth is not None and self.model_folder is not None:
            device = self.synth.device.type.upper()
            self.backend_label.setText(f"{self.model_folder.name} · {self.synth.backend_name} · {device}")

    @staticmethod
    def _generate_fns(synth: Synthesizer | InadeSynthesizer | MscaSynthesizer):
        """The worker's functions: images (OASIS: live, incremental) and variations (full passes)."""

        if synth.family == "msca":

            def styled(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
                if style is None:
                    raise InputError("no exemplar is chosen", fix="pick one in the Exemplars panel")
                return synth.generate(labels, style, "canvas")

            return styled, styled

        def variation(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
            return synth.generate(labels, noise, "canvas", instances)

        if synth.family != "oasis":
            return variation, variation
        live = LiveSynthesis(synth)

        def image(labels: np.ndarray, noise: NoiseField, instances: object, style: object) -> np.ndarray:
            return live.generate(labels, noise, "canvas")

        return image, variation

    # ================================================================== synthesis
    def schedule(self, delay_ms: int = 0) -> None:
        """Ask for a new image soon; during a stroke requests are throttled, not postponed."""
        self._changed_at = time.perf_counter()  # what the painter did last: the latency's start
        if self._timer.isActive():
            if delay_ms == 0:
                self._timer.start(0)
            return
        self._timer.start(delay_ms)

    def synthesize(self) -> int | None:
        if self.synth is None:
            return None
        style = self._msca_style() if self.synth.family == "msca" else None
        self.requested = self.worker.submit(self.doc.labels, self.doc.noise, self.doc.instances, style)
        recent = {k: v for k, v in self._change_times.items() if k > self.requested - 8}
        self._change_times = recent | {self.requested: self._changed_at}
        return self.requested

    @property
    def settled(self) -> bool:
        """No synthesis pending: the newest request's image (or error) is shown."""
        return not self._timer.isActive() and self.shown_request >= self.requested

    def _image_ready(self, request_id: int, image: np.ndarray, ms: float) -> None:
        if request_id <= self.shown_request:
            self.dropped_results += 1  # an older request finished late: never go back in time
            return
        self.shown_request = request_id
        if image.shape[:2] != self.doc.size:
            return  # the canvas was resized meanwhile; a newer request is on its way
        self.output = image
        self.result_view.set_rgb(image)
        self.canvas.set_output(image)
        self.last_ms = ms
        # What the painter feels: from the change (stroke end, fill, re-roll) to these pixels,
        # throttling and queueing included, not only the network's own time.
        changed = self._change_times.get(request_id)
        self.last_latency_ms = (time.perf_counter() - changed) * 1000 if changed is not None else ms
        self.time_label.setText(f"{self.last_latency_ms:.0f} ms")
        self.time_label.setToolTip(
            f"From your last change to this image: {self.last_latency_ms:.0f} ms (synthesis {ms:.0f} ms)"
        )
        self._show_backend()

    def _failed(self, request_id: int, message: str) -> None:
        self.shown_request = max(self.shown_request, request_id)  # settled, with a message instead
        self.statusBar().showMessage(message, 10000)

    def _busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)

    # ================================================================== selection and style
    def set_selection(self, mask: np.ndarray | None, text: str) -> None:
        self.selection = mask if mask is not None and mask.any() else None
        self.canvas.set_selection(self.selection)
        self.style_panel.set_selection_text(text if self.selection is not None else "")
        self.variation_seeds = []
        self.style_panel.clear_variations()

    def reroll_all(self) -> None:
        seed = self.doc.reroll(None)
        self.statusBar().showMessage(f"Re-rolled everything not locked (seed {seed})", 4000)

    def reroll_selection(self) -> None:
        if self.selection is None:
            self.statusBar().showMessage("Select a region first: region picker (V), then click.", 4000)
            return
        seed = self.doc.reroll(self.selection, text="Re-roll selection")
        self.statusBar().showMessage(f"Re-rolled the selection (seed {seed})", 4000)

    def lock_selection(self, value: bool) -> None:
        if self.selection is None:
            return
        self.doc.set_locked(self.selection, value, "Lock" if value else "Unlock")

    def variation_noises(self, seeds: list[int]) -> list[NoiseField]:
        noises = [self.doc.rerolled(self.selection, seed) for seed in seeds]
        return [n for n in noises if n is not None]

    def request_variations(self) -> None:
        if self.synth is None:
            return
        seeds = [random_seed() for _ in range(self.style_panel.count.value())]
        noises = self.variation_noises(seeds)
        if not noises:
            self.statusBar().showMessage("Everything selected is locked: unlock it to see variations.", 4000)
            return
        self.worker.submit_variations(
            self.doc.labels, noises, tag=(seeds, self.doc.labels.copy()), instances=self.doc.instances
        )
        self.statusBar().showMessage("Making variations…", 3000)

    def _variations_ready(self, request_id: int, images: list[np.ndarray], tag: object) -> None:
        seeds, labels = tag  # type: ignore[misc]
        if not np.array_equal(labels, self.doc.labels):
            return  # painted since: these no longer match the canvas
        self.variation_seeds = list(seeds)
        self.style_panel.show_variations(images)

    def adopt_variation(self, index: int) -> None:
        if not 0 <= index < len(self.variation_seeds):
            return
        mask = None if self.selection is None else self.selection
        self.doc.reroll(mask, seed=self.variation_seeds[index], text=f"Adopt variation {index + 1}")

    def _msca_style(self) -> StyleMix | None:
        """The exemplars' mix, and where the style brush painted, the second style alone
        (edges softened over a few pixels so the two looks meet smoothly)."""
        style = self.exemplars.style()
        if style is None or style.second is None or not self.doc.style_mask.any():
            return style
        soft = cv2.GaussianBlur(self.doc.style_mask.astype(np.float32), (0, 0), sigmaX=3.0)
        return StyleMix(style.first, style.second, (style.gamma * (1.0 - soft)).astype(np.float32))

    def _exemplars_changed(self) -> None:
        if hasattr(self, "files"):
            self.files.autosaver.note_change()  # exemplars live outside the undo stack
        if self.synth is not None and self.synth.family == "msca":
            self.schedule(0)

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
            self.cursor_label.setText(f"{ix}, {iy} · {cls.name}{f' #{inst}' if inst else ''}")
        else:
            self.cursor_label.setText("")

    # ================================================================== settings and closing
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        state = self.settings.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
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
        self.worker.stop()
        event.accept()

    # ================================================================== drag and drop
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Photos and gallery thumbnails dropped on the result view restyle the painting
        with an MSCA model (Shift: as the second exemplar); other drops go to the window
        (open the file)."""
        msca = self.synth is not None and self.synth.family == "msca"
        if msca and watched is self.result_view and event.type() in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            data = event.mimeData()
            urls = [u for u in data.urls() if u.isLocalFile()]
            thumbnail = data.hasFormat(EXEMPLAR_MIME)
            photo = bool(urls) and Path(urls[0].toLocalFile()).suffix.lower() in PHOTO_SUFFIXES
            if thumbnail or photo:
                event.acceptProposedAction()
                if event.type() == QEvent.Type.Drop:
                    second = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                    if thumbnail:
                        name = bytes(data.data(EXEMPLAR_MIME).data()).decode()
                        self.exemplars.use(self.exemplars.by_name(name), second=second)
                    else:
                        self.styles.exemplar_photo(Path(urls[0].toLocalFile()), second=second)
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
