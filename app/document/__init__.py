"""The painting document, its undo history and project files (no QtWidgets here)."""
