"""The studio's main window.

For now a placeholder that says what Tessera is and how to use it today; the painting
studio (canvas, tools, panels, synthesis worker) is wired in here later. The window
only wires: no document state or rendering lives in this file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

WELCOME = """
<h2>Welcome to Tessera</h2>
<p>Tessera turns a painted map of <i>what is where</i> (sky, water, mountain, tree,
person, road …) into a photo-like image.</p>
<p>The painting studio is on its way. Until it arrives, generate images from the
command line:</p>
<pre>app-train generate --weights weights/&lt;model&gt; --labels map.png --out image.png</pre>
<p>Run <code>app-train --help</code> to see everything the tool belt can do.</p>
"""


class MainWindow(QMainWindow):
    """Top-level window: menus and, for now, a welcome text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tessera")
        self.resize(720, 420)

        self.welcome = QLabel(WELCOME)
        self.welcome.setTextFormat(Qt.TextFormat.RichText)
        self.welcome.setWordWrap(True)
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.welcome.setContentsMargins(32, 32, 32, 32)
        self.setCentralWidget(self.welcome)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setStatusTip("Close Tessera")
        self.quit_action.triggered.connect(self.close)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
