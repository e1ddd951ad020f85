"""A scripted tour of the studio with real mouse and key events, saving screenshots.

Run it under a display (or Xvfb) to see the studio work end to end, as a new user would:

    xvfb-run -s "-screen 0 1600x1000x24" python -m app.tour --out tour/

It paints sky, mountains, a meadow, a lake and a few trees, waits for the image, re-rolls
the water, shows variations, undoes, saves and exports. Each step leaves a PNG in --out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.theme import apply_dark_theme


class Tour:
    def __init__(self, window: MainWindow, out: Path) -> None:
        self.w, self.out = window, out
        self.shots: list[Path] = []

    # ------------------------------------------------------------------ helpers
    def wait(self, until: Callable[[], bool], timeout_s: float = 300) -> None:
        end = time.monotonic() + timeout_s
        while not until():
            if time.monotonic() > end:
                w = self.w
                raise TimeoutError(
                    f"the studio did not finish (shown {w.synthesis.shown_request}, "
                    f"requested {w.synthesis.requested}, "
                    f"output {w.output is not None}, strip {w.style_panel.strip.count()}, "
                    f"status: {w.statusBar().currentMessage()!r})"
                )
            QApplication.processEvents()
            time.sleep(0.01)

    def settle(self) -> None:
        """Until the newest requested image is on screen."""
        w = self.w
        self.wait(lambda: w.settled and w.output is not None)
        for _ in range(5):
            QApplication.processEvents()

    def shot(self, name: str) -> Path:
        self.settle()
        path = self.out / f"{len(self.shots) + 1:02d}-{name}.png"
        self.w.grab().save(str(path))
        self.shots.append(path)
        return path

    def choose(self, class_name: str) -> None:
        self.w.palette_panel.choose(self.w.doc.label_set.by_name(class_name).id)

    def key(self, key: str) -> None:
        QTest.keyClick(self.w.canvas, key)

    def drag(
        self,
        points: Sequence[tuple[float, float]],
        modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    ) -> None:
        """Press at the first image point (y, x), move through the rest, release at the last."""
        canvas = self.w.canvas

        def at(p: tuple[float, float]):
            return canvas.to_screen(QPointF(p[1], p[0])).toPoint()

        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, at(points[0]))
        for p in points[1:]:
            QTest.mouseMove(canvas, at(p))
            QApplication.processEvents()
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, at(points[-1]))
        QApplication.processEvents()

    # ------------------------------------------------------------------ the tour
    def run(self) -> list[Path]:
        w = self.w
        w.new_document((256, 256), fill=w.doc.label_set.by_name("sky").id)
        self.key("U")  # rectangle: the meadow
        self.choose("grass")
        self.drag([(150, -2), (258, 258)])
        self.key("L")  # lasso: mountains, then a lake
        self.choose("mountain")
        ridge = [(152, -2), (110, 20), (70, 70), (95, 105), (60, 150), (100, 200), (85, 230), (152, 258)]
        self.drag(ridge)
        self.choose("snow")
        self.drag([(72, 62), (70, 70), (76, 80), (80, 72)])
        self.choose("water")
        lake = [(175, 30), (165, 90), (168, 170), (182, 220), (205, 200), (215, 120), (205, 50)]
        self.drag(lake)
        self.key("N")  # instance brush: a few trees
        self.choose("tree")
        w.options.set_size(9)
        for x in (20, 36, 232, 246):
            self.drag([(160, x), (140, x), (132, x)])
        self.key("B")  # brush: a cloud
        self.choose("cloud")
        w.options.set_size(14)
        self.drag([(30, 150), (28, 175), (32, 200)])
        self.shot("painted")

        self.key("V")  # pick the lake and re-roll it
        self.drag([(195, 120)])
        w.reroll_selection()
        self.shot("water-rerolled")

        w.style_panel.count.setValue(6)
        w.request_variations()
        self.wait(lambda: w.style_panel.strip.count() == 6, timeout_s=600)
        self.shot("variations")

        w.undo_action.trigger()
        self.shot("undone")

        w.files.save_as(self.out / "tour.tessera")
        w.files.export_image(self.out / "tour-image.png")
        w.files.export_ora(self.out / "tour-layers.ora")
        return self.shots


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drive the studio through a short painting session.")
    parser.add_argument("--out", type=Path, default=Path("tour"), help="folder for screenshots and files")
    parser.add_argument("--weights", type=Path, help="weights folder (default: the shipped landscapes model)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_dark_theme(app)
    scratch = Path(tempfile.mkdtemp(prefix="tessera-tour-"))
    window = MainWindow(
        settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat),
        recovery_folder=scratch / "recovery",
        restore_session=False,
        model=args.weights,
    )
    window.resize(1500, 900)
    window.show()
    QTest.qWaitForWindowExposed(window)
    # Shortcuts only reach an active window; a bare X server has no window manager to activate it.
    window.activateWindow()
    window.raise_()
    QTest.qWaitForWindowActive(window)
    window.canvas.setFocus()
    shots = Tour(window, args.out).run()
    for shot in shots:
        print(shot)
    window.doc.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
