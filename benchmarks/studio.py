"""Studio latency: stroke end → new pixels, and brush event handling on a large canvas.

Runs the real window (offscreen unless a display is set) with the shipped landscapes
model (smoke runs: a tiny random one, two strokes, a 128² canvas for the brush events).
"Stroke end → pixels" is measured from the mouse release to the moment the new image has
been handed to the result view and the event loop has painted it.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import numpy as np

from benchmarks.settings import MODES, Settings
from benchmarks.timing import percentiles

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "weights" / "landscapes-oasis"


def _window(model: Path):
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    scratch = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    window = MainWindow(
        settings=QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat),
        recovery_folder=scratch / "recovery",
        restore_session=False,
        model=model,
        backend="auto",  # as `app` runs it
    )
    window.resize(1400, 860)
    window.show()
    return app, window


def _status_mib(field: str) -> float | None:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc; None off Linux.

    Not ``ru_maxrss``: Linux carries that over ``exec`` from the parent's memory at fork
    time, so a studio started from a big benchmark process would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _settle(app, window, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while not (window.settled and window.output is not None):
        if time.monotonic() > end:
            raise TimeoutError("no image arrived")
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()  # the paint event of the result view


def bench_studio_process(settings: Settings) -> list[dict]:
    """:func:`bench_studio` in a process of its own, so its peak memory is the studio's
    alone and not that of the generator benchmarks before it."""
    import json
    import subprocess
    import sys

    model = settings.folders("oasis")[0] if settings.smoke else MODEL
    command = [sys.executable, "-m", "benchmarks.studio", "--model", str(model), "--mode", settings.mode]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-2000:]
        error = f"exit {done.returncode}: {tail}"
        row = {"name": "studio", "family": "app", "size": "-", "backend": "-", "p50_ms": None, "p95_ms": None}
        return [row | {"error": error}]
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_studio(mode: str, model: Path = MODEL) -> list[dict]:
    if not (model / "config.json").is_file():
        return []
    settings = Settings(mode)
    from PySide6.QtCore import Qt

    app, w = _window(model)
    none = Qt.KeyboardModifier.NoModifier
    cases = []
    try:
        _settle(app, w)
        w.set_tool("brush")
        w.options.set_size(32)
        rng = np.random.default_rng(0)
        classes = [w.doc.label_set.by_name(n).id for n in ("water", "grass", "rock", "sand", "tree")]
        latencies = []
        for i in range(settings.pick(30, 8, 2)):
            w.palette_panel.choose(classes[i % len(classes)])
            y, x = rng.integers(20, 236, 2)
            brush = w.tools["brush"]
            brush.press(y, x, none)
            for k in range(1, 6):
                brush.move(y, x + 4 * k, none)
                app.processEvents()
            brush.release(y, x + 20, none)
            start = time.perf_counter()
            _settle(app, w)
            latencies.append((time.perf_counter() - start) * 1000)
        cases.append({
            "name": "studio_stroke_to_pixels", "family": "oasis", "size": "256x256",
            "backend": f"{w.synth.backend_name} ({model.name})", **percentiles(latencies),
            "target_p50_ms": 100,
        })  # fmt: skip

        cases.append({
            "name": "studio_rss", "family": "app", "size": "256x256", "backend": model.name,
            "p50_ms": None, "p95_ms": None,
            "rss_mib": _status_mib("VmRSS"),  # after loading, measuring the backends and painting
            "peak_rss_mib": _status_mib("VmHWM")
            or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_rss_mib": 1024,
        })  # fmt: skip

        # Brush events on a 1024² canvas with a 64 px brush: what the GUI thread pays per
        # mouse move (paint into the label map, recolour the dirty box, schedule a repaint).
        side = settings.pick(1024, 1024, 128)
        w.new_document((side, side))
        _settle(app, w, timeout_s=120)
        w.options.set_size(64)
        w.palette_panel.choose(classes[0])
        brush = w.tools["brush"]
        brush.press(100 * side // 1024, 100 * side // 1024, none)
        events = []
        for k in range(settings.pick(600, 200, 20)):
            y, x = (100 + (k * 7) % 800) * side // 1024, (100 + (k * 13) % 800) * side // 1024
            start = time.perf_counter()
            brush.move(y, x, none)
            events.append((time.perf_counter() - start) * 1000)
        brush.release(y, x, none)
        start = time.perf_counter()
        w.canvas.repaint()
        repaint_ms = (time.perf_counter() - start) * 1000
        cases.append({
            "name": "canvas_brush_event", "family": "app", "size": f"{side}x{side}", "backend": "brush 64 px",
            **percentiles(events), "full_repaint_ms": round(repaint_ms, 2),
        })  # fmt: skip
    finally:
        w.doc.undo_stack.setClean()
        w.close()
        # Delete the window while Qt is alive: left to interpreter shutdown, PySide's
        # teardown order can crash the process after the report was written.
        w.deleteLater()
        app.sendPostedEvents(None, 0)
        app.processEvents()
    return cases


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="studio latency and memory (one JSON line)")
    parser.add_argument("--mode", choices=MODES, default="full", help="see python -m benchmarks --help")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    print(json.dumps(bench_studio(args.mode, args.model)))
