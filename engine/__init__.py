"""Tessera engine: Qt-free labels, scenes, noise, networks, data, training and export."""

__version__ = "0.1.0"
