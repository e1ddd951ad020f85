"""Label sets: built-in tables, look-ups, colour mapping, validation and PNG I/O."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import InputError
from engine.labels import (
    MISSING_COLOR,
    LabelClass,
    LabelSet,
    builtin_names,
    read_label_png,
    write_label_png,
)

SMALL = {
    "name": "small",
    "title": "Small",
    "dontcare": 0,
    "classes": [
        {"id": 0, "name": "unknown", "color": [0, 0, 0]},
        {"id": 1, "name": "sky", "color": [110, 170, 240]},
        {"id": 2, "name": "grass", "color": [60, 160, 60]},
        {"id": 5, "name": "tree", "color": [20, 90, 30], "thing": True},
    ],
}


@pytest.fixture
def small() -> LabelSet:
    return LabelSet.from_dict(SMALL)


def _random_map(ls: LabelSet, shape: tuple[int, int] = (24, 32), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array(ls.ids), size=shape).astype(np.uint16)


# ---------------------------------------------------------------- built-in sets
def test_builtin_names_include_the_official_sets() -> None:
    assert {"ade20k", "cityscapes", "cocostuff"} <= set(builtin_names())
    assert LabelSet.builtin_names() == builtin_names()


def test_ade20k_table() -> None:
    ade = LabelSet.builtin("ade20k")
    assert len(ade) == 151 and ade.ids == tuple(range(151))
    assert ade.dontcare == 0 and ade.by_id(0).name == "other"
    assert ade.by_id(1) == LabelClass(1, "wall", (120, 120, 120), False)
    assert ade.by_id(2).color == (180, 120, 120)
    assert ade.by_id(3).name == "sky" and ade.by_id(3).color == (6, 230, 230)
    assert ade.by_id(150).name == "flag"
    assert ade.by_name("person").thing and not ade.by_name("road").thing


def test_cityscapes_table() -> None:
    cs = LabelSet.builtin("cityscapes")
    assert len(cs) == 35 and cs.ids == tuple(range(35)) and cs.dontcare is None
    car = cs.by_id(26)
    assert car.name == "car" and car.color == (0, 0, 142) and car.thing
    assert cs.by_id(7).name == "road" and cs.by_id(7).color == (128, 64, 128)
    assert cs.by_id(34).name == "license plate"
    assert [c.id for c in cs if c.thing] == list(range(24, 34))


def test_cocostuff_table() -> None:
    coco = LabelSet.builtin("cocostuff")
    assert len(coco) == 183 and coco.dontcare == 255 and coco.max_id == 255
    assert coco.ids == (*range(182), 255)
    assert coco.by_id(0).name == "person" and coco.by_id(0).thing
    assert coco.by_id(11).name == "street sign"  # unused ids keep their names
    assert coco.by_id(181).name == "wood" and not coco.by_id(181).thing
    assert coco.by_id(255).name == "unlabeled"
    assert all(coco.by_id(i).thing for i in range(91)) and not any(
        coco.by_id(i).thing for i in range(91, 182)
    )


def test_builtin_is_cached_and_unknown_lists_available() -> None:
    assert LabelSet.builtin("ade20k") is LabelSet.builtin("ADE20K")
    with pytest.raises(InputError, match="cityscapes"):
        LabelSet.builtin("ade21k")


# ---------------------------------------------------------------- look-ups
def test_properties_and_containment(small: LabelSet) -> None:
    assert small.ids == (0, 1, 2, 5) and small.names == ("unknown", "sky", "grass", "tree")
    assert small.max_id == 5 and len(small) == 4
    assert 5 in small and np.uint16(2) in small and 3 not in small and "sky" not in small


def test_by_name_is_case_insensitive(small: LabelSet) -> None:
    assert small.by_name("SKY").id == 1
    assert LabelSet.builtin("ade20k").by_name("Traffic_Light").name == "traffic light"


def test_by_name_suggests_close_matches(small: LabelSet) -> None:
    with pytest.raises(InputError) as err:
        small.by_name("gras")
    assert "gras" in str(err.value) and "'grass'" in err.value.fix
    with pytest.raises(InputError) as err:
        LabelSet.builtin("cocostuff").by_name("sky")
    assert "sky-other" in err.value.fix


def test_by_id_unknown(small: LabelSet) -> None:
    with pytest.raises(InputError, match="id 3"):
        small.by_id(3)


# ---------------------------------------------------------------- construction checks
@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda c: c.append({"id": 1, "name": "sea", "color": [1, 2, 3]}), "id 1 is used twice"),
        (lambda c: c.append({"id": 9, "name": "Sky", "color": [1, 2, 3]}), "used twice"),
        (lambda c: c.append({"id": 9, "name": "sea", "color": [60, 160, 60]}), "#3ca03c"),
        (lambda c: c.append({"id": 70000, "name": "sea", "color": [1, 2, 3]}), "outside 0..65535"),
        (lambda c: c.append({"id": 9, "name": "sea", "color": [1, 2]}), "colour"),
        (lambda c: c.pop(0), "dontcare id 0"),
    ],
)
def test_invalid_sets_are_rejected(change: object, match: str) -> None:
    data = json.loads(json.dumps(SMALL))
    change(data["classes"])  # type: ignore[operator]
    with pytest.raises(InputError, match=match):
        LabelSet.from_dict(data)


def test_dict_round_trip(small: LabelSet) -> None:
    for ls in (small, LabelSet.builtin("cocostuff")):
        again = LabelSet.from_dict(ls.to_dict())
        assert again == ls and again.to_dict() == ls.to_dict()
        assert again.classes == ls.classes and again.dontcare == ls.dontcare


def test_load_user_file_errors_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "mine.json"
    good.write_text(json.dumps(SMALL))
    assert LabelSet.load(good).by_name("tree").thing

    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"name": "x", "classes": [')
    with pytest.raises(InputError) as err:
        LabelSet.load(bad_json)
    assert str(bad_json) in str(err.value) and "JSON" in str(err.value)

    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="classes") as err:
        LabelSet.load(missing)
    assert str(missing) in str(err.value)

    dup = tmp_path / "dup.json"
    data = json.loads(json.dumps(SMALL))
    data["classes"][2]["color"] = data["classes"][1]["color"]
    dup.write_text(json.dumps(data))
    with pytest.raises(InputError, match="colour") as err:
        LabelSet.load(dup)
    assert str(dup) in str(err.value)

    with pytest.raises(InputError, match="not found"):
        LabelSet.load(tmp_path / "nope.json")


# ---------------------------------------------------------------- colours
def test_palette_lut_marks_gaps(small: LabelSet) -> None:
    lut = small.palette_lut()
    assert lut.shape == (6, 3) and lut.dtype == np.uint8
    assert tuple(lut[5]) == (20, 90, 30) and tuple(lut[3]) == MISSING_COLOR


def test_colorize_and_back(small: LabelSet) -> None:
    labels = _random_map(small)
    rgb = small.colorize(labels)
    assert rgb.shape == (*labels.shape, 3) and rgb.dtype == np.uint8
    back = small.labels_from_colors(rgb, "map.png")
    assert back.dtype == np.uint16 and np.array_equal(back, labels)
    # other integer dtypes and out-of-set ids (shown magenta)
    odd = labels.astype(np.int32)
    odd[0, 0], odd[0, 1] = 3, -1
    out = small.colorize(odd)
    assert tuple(out[0, 0]) == MISSING_COLOR and tuple(out[0, 1]) == MISSING_COLOR


@pytest.mark.parametrize("name", ["ade20k", "cityscapes", "cocostuff"])
def test_builtin_colour_round_trip(name: str) -> None:
    ls = LabelSet.builtin(name)
    labels = np.array(ls.ids, dtype=np.uint16)[None, :]
    assert np.array_equal(ls.labels_from_colors(ls.colorize(labels), "x.png"), labels)


def test_unknown_colour_error_names_colour_count_position_and_file(small: LabelSet) -> None:
    rgb = small.colorize(_random_map(small))
    rgb[3, 7] = (255, 0, 255)
    rgb[10:12, 20] = (1, 2, 3)
    alpha = np.full((*rgb.shape[:2], 1), 255, np.uint8)
    with pytest.raises(InputError) as err:
        small.labels_from_colors(np.concatenate([rgb, alpha], axis=2), Path("painted.png"))
    msg = str(err.value)
    assert err.value.source == "painted.png" and "painted.png" in msg
    assert "#ff00ff (1 pixel, e.g. at x=7, y=3)" in msg
    assert "#010203 (2 pixels, e.g. at x=20, y=10)" in msg
    assert "Fix:" in msg


def test_unknown_colour_list_is_capped(small: LabelSet) -> None:
    rgb = np.zeros((2, 20, 3), np.uint8)
    rgb[1, :, 0] = np.arange(1, 21)
    with pytest.raises(InputError, match="and 12 more colours"):
        small.labels_from_colors(rgb, "many.png")


# ---------------------------------------------------------------- validation
def test_validate_names_unknown_ids_with_counts(small: LabelSet) -> None:
    labels = _random_map(small)
    small.validate(labels, "ok.png")
    labels[0, :4] = 3
    labels[1, 0] = 400
    with pytest.raises(InputError) as err:
        small.validate(labels, "bad.png")
    msg = str(err.value)
    assert "bad.png" in msg and "3 (4 pixels)" in msg and "400 (1 pixel)" in msg
    assert "0..2, 5" in err.value.fix


def test_validate_out_of_range_and_dtype(small: LabelSet) -> None:
    with pytest.raises(InputError, match=r"outside 0\.\.65535"):
        small.validate(np.array([[0, -2]], np.int32), "neg.png")
    with pytest.raises(InputError, match="float"):
        small.validate(np.zeros((2, 2), np.float32), "f.png")


# ---------------------------------------------------------------- PNG I/O
def test_id_png_8bit_round_trip(tmp_path: Path, small: LabelSet) -> None:
    labels = _random_map(small)
    path = write_label_png(tmp_path / "ids.png", labels)
    with Image.open(path) as im:
        assert im.mode == "L"
    back = read_label_png(path, small)
    assert back.dtype == np.uint16 and np.array_equal(back, labels)


def test_id_png_16bit_round_trip(tmp_path: Path) -> None:
    big = LabelSet(
        "big",
        [LabelClass(0, "a", (0, 0, 0)), LabelClass(300, "b", (1, 1, 1)), LabelClass(65535, "c", (2, 2, 2))],
    )
    labels = np.array([[0, 300], [65535, 300]], np.uint16)
    path = write_label_png(tmp_path / "sub" / "ids16.png", labels)
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    assert np.array_equal(read_label_png(path, big), labels)
    assert not list((tmp_path / "sub").glob("*.tmp"))


def test_indexed_png_indices_are_ids(tmp_path: Path, small: LabelSet) -> None:
    labels = _random_map(small)
    path = write_label_png(tmp_path / "indexed.png", labels, palette=small)
    with Image.open(path) as im:
        assert im.mode == "P"
        assert np.array_equal(np.asarray(im.convert("RGB")), small.colorize(labels))
    assert np.array_equal(read_label_png(path, small), labels)


def test_indexed_png_with_foreign_indices_falls_back_to_colours(tmp_path: Path, small: LabelSet) -> None:
    labels = _random_map(small)
    rgb = Image.fromarray(small.colorize(labels))
    path = tmp_path / "quantised.png"
    rgb.quantize(colors=8, method=Image.Quantize.MAXCOVERAGE).save(path)
    with Image.open(path) as im:
        assert im.mode == "P"
    assert np.array_equal(read_label_png(path, small), labels)


def test_colour_png_is_mapped_through_palette(tmp_path: Path, small: LabelSet) -> None:
    labels = _random_map(small)
    path = tmp_path / "colour.png"
    Image.fromarray(small.colorize(labels)).save(path)
    assert np.array_equal(read_label_png(path, small), labels)
    rgba = np.concatenate([small.colorize(labels), np.full((*labels.shape, 1), 255, np.uint8)], axis=2)
    Image.fromarray(rgba).save(path)
    assert np.array_equal(read_label_png(path, small), labels)


def test_colour_png_unknown_colour_names_file(tmp_path: Path, small: LabelSet) -> None:
    rgb = small.colorize(_random_map(small))
    rgb[2, 5] = (9, 9, 9)
    path = tmp_path / "painted.png"
    Image.fromarray(rgb).save(path)
    with pytest.raises(InputError) as err:
        read_label_png(path, small)
    assert str(path) in str(err.value) and "#090909" in str(err.value)


def test_out_of_range_id_in_png(tmp_path: Path, small: LabelSet) -> None:
    labels = _random_map(small)
    labels[4, 4] = 7
    path = write_label_png(tmp_path / "ids.png", labels)
    with pytest.raises(InputError) as err:
        read_label_png(path, small)
    assert str(path) in str(err.value) and "7 (1 pixel)" in str(err.value)


def test_corrupt_and_missing_png(tmp_path: Path, small: LabelSet) -> None:
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    with pytest.raises(InputError) as err:
        read_label_png(bad, small)
    assert str(bad) in str(err.value)

    good = write_label_png(tmp_path / "t.png", _random_map(small, (64, 64)))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    with pytest.raises(InputError, match=r"truncated\.png"):
        read_label_png(truncated, small)

    with pytest.raises(InputError, match="not found"):
        read_label_png(tmp_path / "absent.png", small)


def test_jpeg_colour_map_is_refused(tmp_path: Path, small: LabelSet) -> None:
    path = tmp_path / "map.jpg"
    Image.fromarray(small.colorize(_random_map(small))).save(path)
    with pytest.raises(InputError, match="JPEG"):
        read_label_png(path, small)


def _grey_alpha_16(path: Path, grey: np.ndarray) -> Path:
    """A 16-bit grey+alpha PNG written byte by byte (Pillow cannot write this mode)."""
    import struct
    import zlib

    h, w = grey.shape
    alpha = np.full((h, w), 65535, ">u2")
    rows = [b"\x00" + np.stack([grey[r].astype(">u2"), alpha[r]], 1).tobytes() for r in range(h)]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_a_16_bit_grey_alpha_map_is_refused_not_misread(tmp_path: Path) -> None:
    grey = np.array([[7, 300], [150, 1]], np.uint16)  # 300 would come back as 300 & 0xFF = 44
    path = _grey_alpha_16(tmp_path / "ga16.png", grey)
    with pytest.raises(InputError, match="16-bit grey\\+alpha") as info:
        read_label_png(path, LabelSet.builtin("ade20k"))
    assert "ga16.png" in str(info.value)
