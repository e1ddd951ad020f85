"""Project files: save → load round-trips everything; damaged files fail cleanly, naming the file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.document.document import Document
from app.document.project import (
    ProjectState,
    apply_to,
    load_project,
    save_project,
    state_of,
)
from engine.errors import InputError
from engine.labels import LabelSet
from engine.noise import NoiseField
from engine.scene import Scene
from tests.helpers import TINY_SET, tiny_scene

H, W = 48, 64


@pytest.fixture
def label_set() -> LabelSet:
    return LabelSet.from_dict(TINY_SET)


def _png(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    return out.getvalue()


def make_state(label_set: LabelSet) -> ProjectState:
    labels, photo = tiny_scene(3, (H, W))
    instances = np.zeros((H, W), np.int32)
    instances[labels == 4] = 7
    instances[:5, :5] = 65535  # the largest id a 16-bit PNG holds
    # Arbitrary (sparse, large) region ids, one explicit vector: the PNG stores ranks.
    region_map = np.full((H, W), 3, np.int32)
    region_map[10:20] = 70_000
    region_map[:, 40:] = 2**31 - 1
    vector = torch.linspace(-2, 2, 64).tolist()
    noise = NoiseField(region_map, {3: 11, 70_000: 2**63 - 1, 2**31 - 1: vector})
    locked = np.zeros((H, W), bool)
    locked[5:9, 30:50] = True
    return ProjectState(
        label_set=label_set,
        scene=Scene(labels, instances),
        noise=noise,
        locked=locked,
        model="oasis-landscapes",
        exemplars=[{"file": "beach.png", "weight": 0.5}, {"path": "/photos/b.jpg", "weight": 0.25}],
        exemplar_files={"beach.png": _png(photo)},
        settings={"interpolation": {"mode": "spatial", "t": 0.3}, "seed_lock": True},
        render=photo,
    )


def _rewrite(
    src: Path, dst: Path, drop: tuple[str, ...] = (), replace: dict[str, bytes] | None = None
) -> Path:
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename not in drop:
                zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
    return dst


def test_round_trip_everything(tmp_path: Path, label_set: LabelSet) -> None:
    state = make_state(label_set)
    path = save_project(tmp_path / "scene.tessera", state)
    back = load_project(path)
    assert back.label_set == label_set
    assert np.array_equal(back.scene.labels, state.scene.labels) and back.scene.labels.dtype == np.uint16
    assert np.array_equal(back.scene.instances, state.scene.instances)
    assert back.scene.instances.dtype == np.int32
    assert back.noise == state.noise  # same ids, seeds and vectors
    assert torch.equal(back.noise.to_tensor(), state.noise.to_tensor())  # bit for bit
    assert np.array_equal(back.locked, state.locked) and back.locked.dtype == np.bool_
    assert back.model == "oasis-landscapes"
    assert back.exemplars == state.exemplars
    assert back.exemplar_files == state.exemplar_files
    assert back.settings == state.settings
    assert back.render is not None and np.array_equal(back.render, state.render)


def test_zip_members_and_scene_json(tmp_path: Path, label_set: LabelSet) -> None:
    path = save_project(tmp_path / "p.tessera", make_state(label_set))
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read("scene.json"))
        maps = {n: Image.open(io.BytesIO(zf.read(n))) for n in ("labels.png", "instances.png", "noise.png")}
        ranks = np.asarray(maps["noise.png"])
    assert names == {
        "scene.json",
        "labels.png",
        "instances.png",
        "noise.png",
        "locked.png",
        "render.png",
        "exemplars/beach.png",
    }
    assert meta["format"] == "tessera-project" and meta["version"] == 1
    assert meta["size"] == [H, W] and meta["model"] == "oasis-landscapes"
    assert meta["label_set"] == label_set.to_dict()
    assert sorted(meta["noise"]["regions"]) == sorted(["3", "70000", str(2**31 - 1)])
    assert all(im.mode == "I;16" for im in maps.values())  # 16-bit PNGs
    assert set(np.unique(ranks).tolist()) == {0, 1, 2}  # region ids renumbered to ranks


def test_render_is_optional(tmp_path: Path, label_set: LabelSet) -> None:
    state = make_state(label_set)
    state.render = None
    path = save_project(tmp_path / "p.tessera", state)
    assert "render.png" not in zipfile.ZipFile(path).namelist()
    assert load_project(path).render is None
    render = np.full((H, W, 3), 9, np.uint8)  # the argument wins over the state's
    back = load_project(save_project(path, state, render=render))
    assert back.render is not None and np.array_equal(back.render, render)


def test_instance_ids_beyond_16_bit_fail_without_touching_old_file(
    tmp_path: Path, label_set: LabelSet
) -> None:
    path = save_project(tmp_path / "p.tessera", make_state(label_set))
    before = path.read_bytes()
    state = make_state(label_set)
    state.scene.instances[0, 0] = 65536
    with pytest.raises(InputError, match="65535") as info:
        save_project(path, state)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.tessera"]  # no temp file left


def test_document_state_round_trip(qtbot, tmp_path: Path, label_set: LabelSet) -> None:
    doc = Document(label_set, (H, W), fill=1, seed=5, model="m1")
    mask = np.ones((4, 6), bool)
    doc.paint((2, 3, 6, 9), mask, 4, 1)
    doc.end_edit("Brush")
    doc.reroll(np.pad(np.ones((10, 10), bool), ((0, H - 10), (0, W - 10))), seed=99)
    doc.set_locked(np.eye(H, W, dtype=bool), True, "Lock")
    path = save_project(tmp_path / "d.tessera", state_of(doc, settings={"t": 0.5}))

    other = Document(label_set, (16, 16), seed=1, model="other")
    other.paint((0, 0, 1, 1), np.ones((1, 1), bool), 2)
    other.end_edit("x")
    state = load_project(path)
    with qtbot.waitSignal(other.reset):
        apply_to(other, state, path)
    assert other.size == (H, W)
    assert np.array_equal(other.labels, doc.labels) and np.array_equal(other.instances, doc.instances)
    assert other.noise == doc.noise and np.array_equal(other.locked, doc.locked)
    assert other.model_name == "m1" and other.path == path and not other.modified
    assert other.undo_stack.count() == 0 and state.settings == {"t": 0.5}
    # the document owns copies: painting it does not change the loaded state
    before = int(state.scene.labels[0, 0])
    other.paint((0, 0, 1, 1), np.ones((1, 1), bool), 3)
    assert other.labels[0, 0] == 3 and state.scene.labels[0, 0] == before


def test_project_without_model_clears_the_model(qtbot, tmp_path: Path, label_set: LabelSet) -> None:
    state = make_state(label_set)
    state.model = None
    path = save_project(tmp_path / "p.tessera", state)
    doc = Document(label_set, (8, 8), model="something")
    apply_to(doc, load_project(path), path)
    assert doc.model_name is None


# ---------------------------------------------------------------------- damaged files
def _expect_error(path: Path, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        load_project(path)
    assert str(path) in str(info.value)
    assert info.value.source == str(path)
    return info.value


@pytest.fixture
def saved(tmp_path: Path, label_set: LabelSet) -> Path:
    return save_project(tmp_path / "good.tessera", make_state(label_set))


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope.tessera", "not found")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "junk.tessera"
    path.write_bytes(b"this is not a zip file at all" * 10)
    _expect_error(path, "damaged")


def test_truncated_file(tmp_path: Path, saved: Path) -> None:
    path = tmp_path / "cut.tessera"
    path.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    err = _expect_error(path, "truncated")
    assert err.fix


def test_corrupted_member(tmp_path: Path, saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    offset = zipfile.ZipFile(saved).getinfo("labels.png").header_offset + 30 + len("labels.png") + 40
    data[offset] ^= 0xFF  # inside the stored PNG: the CRC check catches it
    path = tmp_path / "flipped.tessera"
    path.write_bytes(bytes(data))
    _expect_error(path, "labels.png")


@pytest.mark.parametrize("member", ["scene.json", "labels.png", "instances.png", "noise.png", "locked.png"])
def test_missing_member(tmp_path: Path, saved: Path, member: str) -> None:
    _expect_error(_rewrite(saved, tmp_path / "missing.tessera", drop=(member,)), f"no {member}")


@pytest.mark.parametrize("member", ["labels.png", "instances.png", "noise.png", "locked.png"])
def test_wrong_size_map(tmp_path: Path, saved: Path, member: str) -> None:
    small = _png(np.zeros((H, W - 1), np.uint8))
    path = _rewrite(saved, tmp_path / "size.tessera", replace={member: small})
    _expect_error(path, f"{member} is {W - 1}×{H} but the project is {W}×{H}")


def test_unknown_label_id(tmp_path: Path, saved: Path) -> None:
    labels = np.ones((H, W), np.uint16)
    labels[3, 4] = 9
    path = _rewrite(saved, tmp_path / "ids.tessera", replace={"labels.png": _png(labels)})
    _expect_error(path, "labels.png: 1 id not in label set 'tiny': 9")


def test_noise_rank_out_of_range(tmp_path: Path, saved: Path) -> None:
    ranks = np.full((H, W), 3, np.uint16)
    path = _rewrite(saved, tmp_path / "noise.tessera", replace={"noise.png": _png(ranks)})
    _expect_error(path, "lists 3 regions")


def _with_meta(saved: Path, dst: Path, **changes: object) -> Path:
    meta = json.loads(zipfile.ZipFile(saved).read("scene.json"))
    meta.update(changes)
    return _rewrite(saved, dst, replace={"scene.json": json.dumps(meta).encode()})


def test_newer_version(tmp_path: Path, saved: Path) -> None:
    err = _expect_error(_with_meta(saved, tmp_path / "v2.tessera", version=2), "newer Tessera")
    assert "update Tessera" in err.fix


def test_wrong_format_and_bad_json(tmp_path: Path, saved: Path) -> None:
    _expect_error(_with_meta(saved, tmp_path / "f.tessera", format="something-else"), "not a Tessera project")
    path = _rewrite(saved, tmp_path / "j.tessera", replace={"scene.json": b"{not json"})
    _expect_error(path, "not valid JSON")


def test_bad_label_set_and_dangling_exemplar(tmp_path: Path, saved: Path) -> None:
    _expect_error(_with_meta(saved, tmp_path / "ls.tessera", label_set={"name": "x"}), "classes")
    path = _with_meta(saved, tmp_path / "ex.tessera", exemplars=[{"file": "gone.png"}])
    _expect_error(path, "exemplars/gone.png")


def test_failed_load_leaves_document_alone(qtbot, tmp_path: Path, saved: Path, label_set: LabelSet) -> None:
    doc = Document(label_set, (8, 8), fill=2, model="keep")
    path = _rewrite(saved, tmp_path / "bad.tessera", drop=("noise.png",))
    with pytest.raises(InputError):
        apply_to(doc, load_project(path), path)
    assert doc.size == (8, 8) and doc.model_name == "keep" and (doc.labels == 2).all()


def test_a_member_that_would_inflate_too_far_is_refused(
    tmp_path: Path, label_set: LabelSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.document.project as project

    path = save_project(tmp_path / "p.tessera", make_state(label_set))
    monkeypatch.setattr(project, "MAX_MEMBER_BYTES", 64)  # a real bomb declares gigabytes
    with pytest.raises(InputError, match="would unpack to") as info:
        load_project(path)
    assert "p.tessera" in str(info.value)


def test_the_photo_underlay_travels_in_the_project(tmp_path: Path, label_set: LabelSet) -> None:
    state = make_state(label_set)
    h, w = state.size
    state.underlay = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    back = load_project(save_project(tmp_path / "u.tessera", state))
    assert back.underlay is not None and np.array_equal(back.underlay, state.underlay)
    state.underlay = None
    assert load_project(save_project(tmp_path / "n.tessera", state)).underlay is None


def test_a_depth_map_travels_exactly_and_a_damaged_one_is_named(tmp_path: Path, label_set: LabelSet) -> None:
    state = make_state(label_set)
    h, w = state.size
    state.condition = "depth"
    state.depth = np.random.default_rng(1).integers(0, 65536, (h, w)).astype(np.uint16)
    saved = save_project(tmp_path / "d.tessera", state)
    back = load_project(saved)
    assert back.condition == "depth" and back.depth.dtype == np.uint16
    assert np.array_equal(back.depth, state.depth)  # 16 bits: the depth the brush painted, exactly
    small = _png(np.zeros((h, w - 1), np.uint16))
    _expect_error(_rewrite(saved, tmp_path / "bad.tessera", replace={"depth.png": small}), "depth.png is")
    state.depth = None
    assert load_project(save_project(tmp_path / "n.tessera", state)).depth is None
