"""Importing and exporting single files: label maps, images, OpenRaster, photos. Qt-free.

Label maps go through ``engine.labels`` (the one place that knows id PNGs, indexed PNGs
and palette colours), so the studio and ``app-train`` accept exactly the same files.
Every write is atomic: an export that fails half-way never clobbers an older file.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.document import pngmaps
from engine.errors import InputError
from engine.fileio import atomic_write
from engine.labels import LabelSet, read_label_png, write_label_png
from engine.limits import check_pixels

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95
THUMBNAIL_SIZE = 256  # OpenRaster: thumbnails are at most 256 px on their long side
ORA_MIMETYPE = b"image/openraster"


# ---------------------------------------------------------------------- label maps
def import_label_map(
    path: Path | str, label_set: LabelSet, size: tuple[int, int] | None = None
) -> np.ndarray:
    """A label-map file as H×W uint16 ids of ``label_set``.

    Accepts 8/16-bit id PNGs, indexed PNGs (indices are ids) and colour PNGs mapped
    through the set's palette; unknown ids or colours are an error that lists them.
    With ``size`` (h, w) the map must have exactly that size: labels are never resampled
    behind the user's back, since smoothing would invent classes along every edge.
    """
    p = Path(path)
    labels = read_label_png(p, label_set)
    if size is not None and labels.shape != tuple(size):
        h, w = size
        raise InputError(
            f"the label map is {labels.shape[1]}×{labels.shape[0]}, the canvas is {w}×{h}",
            source=p,
            fix=f"resize the map to {w}×{h} with nearest-neighbour scaling, or open it as a new document",
        )
    return labels.astype(np.uint16, copy=False)


def export_label_map(path: Path | str, labels: np.ndarray, label_set: LabelSet) -> Path:
    """Indexed PNG (indices = ids, palette = the set's colours); 16-bit grey when ids exceed 255."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise InputError(
            f"label maps are exported as PNG, not '{p.suffix or 'no suffix'}'",
            source=p,
            fix="name the file *.png (lossy formats change ids along every edge)",
        )
    return write_label_png(p, labels, palette=label_set)


# ---------------------------------------------------------------------- images
def export_image(path: Path | str, rgb: np.ndarray) -> Path:
    """Save an H×W×3 uint8 image as PNG or JPEG, chosen by the suffix."""
    p = Path(path)
    fmt = IMAGE_SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot export an image as '{p.suffix or 'no suffix'}'",
            source=p,
            fix="name the file *.png, *.jpg or *.jpeg",
        )
    im = Image.fromarray(pngmaps.check_rgb(rgb, "image"))

    def write(fh: BinaryIO) -> None:
        if fmt == "JPEG":
            im.save(fh, format="JPEG", quality=JPEG_QUALITY, subsampling=0)  # 4:4:4: crisp class edges
        else:
            im.save(fh, format="PNG")

    return atomic_write(p, write)


def open_photo(path: Path | str) -> np.ndarray:
    """A photo (exemplar, underlay, segmenter input) as H×W×3 uint8 RGB.

    Camera orientation (EXIF) is applied, transparency is flattened onto white (what
    the user saw in their viewer) and 16-bit greys are scaled, not clipped.
    """
    p = Path(path)
    try:
        with Image.open(p) as raw:
            check_pixels(*raw.size, p)
            raw.load()
            im = ImageOps.exif_transpose(raw) or raw
            return _to_rgb(im)
    except FileNotFoundError:
        raise InputError("file not found", source=p, fix="check the path of the image") from None
    except Image.DecompressionBombError as exc:
        raise InputError(
            f"the image is too large to open safely ({exc})", source=p, fix="scale it down first"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(
            f"cannot read the image ({exc})",
            source=p,
            fix="pass a PNG, JPEG, WebP, BMP or TIFF image; if it is one, the file is damaged",
        ) from None


def _to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        grey = np.asarray(im).astype(np.float64)
        if im.mode.startswith("I;16") or grey.max(initial=0) > 255:
            grey = grey / 257.0
        g8 = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.repeat(g8[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB")).copy()
    return np.asarray(im.convert("RGB")).copy()


# ---------------------------------------------------------------------- OpenRaster
def export_ora(
    path: Path | str,
    labels_rgb: np.ndarray,
    image_rgb: np.ndarray,
    name: str = "Tessera",
    *,
    labels_visible: bool = False,
    hidden_layers: Sequence[tuple[str, np.ndarray]] = (),
) -> Path:
    """A layered OpenRaster file (GIMP, Krita, MyPaint): "Labels" above "Image".

    The label layer starts hidden so the merged image (and every file browser's
    preview) shows the render; one click in the layer panel shows the labels. A label
    layer of another size than the render is scaled to it with nearest neighbour, so
    its colours stay exact palette colours.

    ``hidden_layers`` are more pictures, (name, H×W×3 uint8 RGB), stacked hidden between
    the labels and the image, top first, and scaled like the labels; the merged image and
    the thumbnail never show them.
    """
    image = pngmaps.check_rgb(image_rgb, "image")
    h, w = image.shape[:2]
    layers = [("Labels", _at_size(labels_rgb, "labels", h, w), labels_visible)]
    layers += [(title, _at_size(rgb, title, h, w), False) for title, rgb in hidden_layers]
    layers.append(("Image", image, True))
    srcs = _layer_files([title for title, _, _ in layers])

    root = ET.Element("image", {"version": "0.0.5", "w": str(w), "h": str(h), "xres": "72", "yres": "72"})
    stack = ET.SubElement(root, "stack", {"name": name})
    for (layer_name, _, visible), src in zip(layers, srcs, strict=True):  # the first listed is the top one
        ET.SubElement(
            stack,
            "layer",
            {
                "name": layer_name,
                "src": src,
                "x": "0",
                "y": "0",
                "opacity": "1.0",
                "visibility": "visible" if visible else "hidden",
                "composite-op": "svg:src-over",
            },
        )
    stack_xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    merged = layers[0][1] if labels_visible else image  # every layer is opaque: the top visible one wins
    thumb = Image.fromarray(merged)
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    pngs = {src: pngmaps.encode_rgb(arr) for (_, arr, _), src in zip(layers, srcs, strict=True)}
    pngs["mergedimage.png"] = pngmaps.encode_rgb(merged)
    pngs["Thumbnails/thumbnail.png"] = _png_bytes(thumb)

    def write(fh: BinaryIO) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            # The spec: "mimetype" first, uncompressed, so tools can sniff the type at a fixed offset.
            zf.writestr(zipfile.ZipInfo("mimetype"), ORA_MIMETYPE, zipfile.ZIP_STORED)
            zf.writestr("stack.xml", stack_xml, zipfile.ZIP_DEFLATED)
            for src, data in pngs.items():
                zf.writestr(src, data, zipfile.ZIP_STORED)

    return atomic_write(Path(path), write)


def _at_size(rgb: np.ndarray, what: str, h: int, w: int) -> np.ndarray:
    """An RGB layer at the render's size; nearest neighbour keeps its colours exact."""
    layer = pngmaps.check_rgb(rgb, what)
    if layer.shape[:2] != (h, w):
        layer = np.asarray(Image.fromarray(layer).resize((w, h), Image.Resampling.NEAREST))
    return layer


def _layer_files(titles: list[str]) -> list[str]:
    """Each layer's file in the zip, from its title ("Labels" → data/labels.png)."""
    srcs = [f"data/{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-') or 'layer'}.png" for title in titles]
    if len(set(srcs)) != len(srcs):
        raise ValueError(f"OpenRaster layers need distinct names, got {titles}")
    return srcs


def _png_bytes(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()
