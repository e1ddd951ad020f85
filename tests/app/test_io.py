"""Label-map import/export, image export, OpenRaster structure (with and without extra
hidden layers) and photo opening."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.document.io import export_image, export_label_map, export_ora, import_label_map, open_photo
from engine.errors import InputError
from engine.labels import LabelSet
from tests.helpers import TINY_SET, read_ora, tiny_scene

H, W = 40, 56


@pytest.fixture
def label_set() -> LabelSet:
    return LabelSet.from_dict(TINY_SET)


@pytest.fixture
def labels() -> np.ndarray:
    return tiny_scene(1, (H, W))[0]


# ---------------------------------------------------------------------- label maps
def test_import_indexed_png(tmp_path: Path, label_set: LabelSet, labels: np.ndarray) -> None:
    path = export_label_map(tmp_path / "map.png", labels, label_set)
    with Image.open(path) as im:
        assert im.mode == "P"
        assert im.getpalette()[3:6] == [110, 170, 240]  # id 1 = sky's colour
    out = import_label_map(path, label_set, size=(H, W))
    assert out.dtype == np.uint16 and np.array_equal(out, labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_import_id_png(tmp_path: Path, label_set: LabelSet, labels: np.ndarray, dtype: type) -> None:
    path = tmp_path / "ids.png"
    Image.fromarray(labels.astype(dtype)).save(path)
    assert np.array_equal(import_label_map(path, label_set), labels)


def test_import_colour_png(tmp_path: Path, label_set: LabelSet, labels: np.ndarray) -> None:
    path = tmp_path / "colours.png"
    Image.fromarray(label_set.colorize(labels)).save(path)
    assert np.array_equal(import_label_map(path, label_set), labels)


def test_unknown_colour_is_named(tmp_path: Path, label_set: LabelSet, labels: np.ndarray) -> None:
    rgb = label_set.colorize(labels)
    rgb[7, 9] = (1, 2, 3)
    path = tmp_path / "bad.png"
    Image.fromarray(rgb).save(path)
    with pytest.raises(InputError, match="#010203") as info:
        import_label_map(path, label_set)
    assert str(path) in str(info.value) and "x=9, y=7" in str(info.value)


def test_unknown_id_and_wrong_size(tmp_path: Path, label_set: LabelSet, labels: np.ndarray) -> None:
    path = tmp_path / "ids.png"
    bad = labels.astype(np.uint8)
    bad[0, 0] = 42
    Image.fromarray(bad).save(path)
    with pytest.raises(InputError, match="42"):
        import_label_map(path, label_set)
    Image.fromarray(labels.astype(np.uint8)).save(path)
    with pytest.raises(InputError, match=f"{W}×{H}, the canvas is 64×32") as info:
        import_label_map(path, label_set, size=(32, 64))
    assert str(path) in str(info.value)


def test_export_label_map_rejects_lossy_suffix(
    tmp_path: Path, label_set: LabelSet, labels: np.ndarray
) -> None:
    with pytest.raises(InputError, match="PNG"):
        export_label_map(tmp_path / "map.jpg", labels, label_set)
    assert not (tmp_path / "map.jpg").exists()


# ---------------------------------------------------------------------- images
def test_export_image_png_and_jpeg(tmp_path: Path) -> None:
    rgb = tiny_scene(2, (H, W))[1]
    png = export_image(tmp_path / "out.png", rgb)
    assert np.array_equal(np.asarray(Image.open(png)), rgb)
    jpg = export_image(tmp_path / "out.JPG", rgb)
    with Image.open(jpg) as im:
        assert im.format == "JPEG" and im.size == (W, H)
    with pytest.raises(InputError, match="tiff"):
        export_image(tmp_path / "out.tiff", rgb)


def test_open_photo(tmp_path: Path) -> None:
    rgb = tiny_scene(4, (H, W))[1]
    Image.fromarray(rgb).save(tmp_path / "a.png")
    assert np.array_equal(open_photo(tmp_path / "a.png"), rgb)

    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, : W // 2, 3] = 255  # right half fully transparent
    Image.fromarray(rgba).save(tmp_path / "t.png")
    photo = open_photo(tmp_path / "t.png")
    assert photo.shape == (H, W, 3) and photo.dtype == np.uint8
    assert tuple(photo[0, 0]) == (200, 0, 0) and tuple(photo[0, -1]) == (255, 255, 255)

    Image.fromarray(np.full((H, W), 65535, np.uint16)).save(tmp_path / "g16.png")
    assert (open_photo(tmp_path / "g16.png") == 255).all()  # scaled, not clipped from 16 bits

    exif = Image.Exif()
    exif[0x0112] = 6  # camera held sideways: rotate 90°
    Image.fromarray(rgb).save(tmp_path / "rot.jpg", exif=exif)
    assert open_photo(tmp_path / "rot.jpg").shape == (W, H, 3)


def test_open_photo_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        open_photo(tmp_path / "none.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(InputError, match="cannot read") as info:
        open_photo(bad)
    assert str(bad) in str(info.value)
    cut = tmp_path / "cut.png"
    buf = BytesIO()
    Image.fromarray(tiny_scene(4, (H, W))[1]).save(buf, format="PNG")
    cut.write_bytes(buf.getvalue()[:200])
    with pytest.raises(InputError, match="cannot read"):
        open_photo(cut)


# ---------------------------------------------------------------------- OpenRaster
def test_ora_structure(tmp_path: Path, label_set: LabelSet) -> None:
    h, w = 300, 520  # larger than the thumbnail limit
    labels = tiny_scene(5, (h // 2, w // 2))[0]  # another size: scaled to the render
    image = tiny_scene(6, (h, w))[1]
    path = export_ora(tmp_path / "scene.ora", label_set.colorize(labels), image, name="My <scene>")
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"image/openraster"
        # Sniffable at a fixed offset: local header (30 bytes), name, then the content; no extra field.
        name_len, extra_len = struct.unpack("<HH", raw[26:30])
        assert (name_len, extra_len) == (8, 0) and raw[30:54] == b"mimetypeimage/openraster"

        root = ET.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and (root.get("w"), root.get("h")) == (str(w), str(h))
        stack = root.find("stack")
        assert stack is not None and stack.get("name") == "My <scene>"
        layers = stack.findall("layer")
        assert [layer.get("name") for layer in layers] == ["Labels", "Image"]  # top first
        assert [layer.get("visibility") for layer in layers] == ["hidden", "visible"]
        opened = {}
        for layer in layers:
            with Image.open(BytesIO(zf.read(layer.get("src")))) as im:
                assert im.size == (w, h) and im.mode == "RGB"
                opened[layer.get("name")] = np.asarray(im)
        assert np.array_equal(opened["Image"], image)
        assert set(map(tuple, opened["Labels"].reshape(-1, 3))) <= {tuple(c.color) for c in label_set}
        with Image.open(BytesIO(zf.read("mergedimage.png"))) as merged:
            assert merged.size == (w, h) and np.array_equal(np.asarray(merged), image)
        with Image.open(BytesIO(zf.read("Thumbnails/thumbnail.png"))) as thumb:
            assert max(thumb.size) == 256 and thumb.size[0] > thumb.size[1]


def test_ora_hidden_layers_sit_between_the_labels_and_the_image(tmp_path: Path, label_set: LabelSet) -> None:
    labels, image = tiny_scene(7, (H, W))
    lines = np.full((H, W, 3), 255, np.uint8)
    lines[10, :] = 0
    grey = np.repeat(np.linspace(0, 255, H).round().astype(np.uint8)[:, None, None], 3, axis=2)
    depth = np.ascontiguousarray(np.broadcast_to(grey, (H, W, 3)))
    small = depth[::2, ::2]  # another size: scaled to the render like the labels
    path = export_ora(
        tmp_path / "c.ora",
        label_set.colorize(labels),
        image,
        hidden_layers=[("Lines", lines), ("Depth", small)],
    )
    layers = read_ora(path)
    assert [(name, shown) for name, shown, _ in layers] == [
        ("Labels", "hidden"),
        ("Lines", "hidden"),
        ("Depth", "hidden"),
        ("Image", "visible"),
    ]
    pixels = {name: values for name, _, values in layers}
    assert np.array_equal(pixels["Lines"], lines) and np.array_equal(pixels["Image"], image)
    assert pixels["Depth"].shape == (H, W, 3) and np.array_equal(pixels["Depth"][::2, ::2], small)
    with zipfile.ZipFile(path) as zf:
        srcs = [layer.get("src") for layer in ET.fromstring(zf.read("stack.xml")).iter("layer")]
        assert srcs == ["data/labels.png", "data/lines.png", "data/depth.png", "data/image.png"]
        with Image.open(BytesIO(zf.read("mergedimage.png"))) as merged:  # still the render
            assert np.array_equal(np.asarray(merged), image)
    with pytest.raises(ValueError, match="distinct names"):
        export_ora(tmp_path / "d.ora", label_set.colorize(labels), image, hidden_layers=[("Image", lines)])
    with pytest.raises(ValueError, match="Lines must be"):
        export_ora(
            tmp_path / "d.ora", label_set.colorize(labels), image, hidden_layers=[("Lines", lines[..., 0])]
        )
    assert not (tmp_path / "d.ora").exists()
