"""The landscapes domain: Tessera's own procedural (label map, image) pairs.

Layouts (what is where) come from :mod:`engine.data.landscapes.layouts`; the material
renderer turns a layout into a photo-like image. Class ids live in
:mod:`engine.data.landscapes.classes`.
"""
