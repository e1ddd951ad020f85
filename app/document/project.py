"""``.tessera`` project files: a zip of ``scene.json`` and lossless PNG maps.

Layout (version 1)::

    scene.json        format, version, size [h, w], label set (full), model, noise
                      description (NoiseField.to_state), exemplar references, settings,
                      optional "guidance": the retrieved segment chosen per region (RESAIL;
                      engine.retrieval.choices_to_json: class, box, packed mask, row, pinned),
                      optional "condition": what drives a ugen model ("edges", "sketch" or "depth";
                      absent: the label map), optional "style_w": the w a ugen model paints
                      with instead of the noise's z (a photo's style; a list of floats)
    labels.png        16-bit grey class ids
    instances.png     16-bit grey instance ids (0 = none)
    noise.png         noise regions: each pixel holds the *rank* of its region id among
                      the ids listed in scene.json (0..n-1), so arbitrary int32 ids fit
                      16 bits while the description keeps the original ids and the
                      reopened field is equal, bit for bit (24-bit RGB if n > 65536)
    locked.png        1-bit mask of pixels locked against re-rolls
    style_mask.png    optional: 1-bit mask of where the second exemplar's style applies (MSCA)
    render.png        optional: the last output image (RGB)
    underlay.png      optional: the photo a painting was segmented from, shown under it (RGB)
    lines.png         optional: ugen's line drawing (1-bit, white = line), absent when empty
    depth.png         optional: ugen's depth map (16-bit grey, 0 = nearest, 65535 = far and
                      sky, as engine.depth_image writes), absent when blank (the ground plane)
    proxy.png         optional: a proxy mask the painter edited (16-bit grey cluster ids, r×r)
    exemplars/…       optional: exemplar images that references point to with "file"

The label set travels in full, so a project opens even where its model (or a custom
label-set file) is missing. Loading validates everything before returning, so a bad file
never half-replaces a document; writing builds every member first and then writes the
zip atomically, so a failed save leaves the old file intact. Every optional member is
absent from older files, which open with its default. Qt-free at runtime.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from app.document import pngmaps
from app.document.modes import LABELS, MODES
from engine.errors import InputError
from engine.fileio import atomic_write
from engine.labels import LabelSet
from engine.noise import NoiseField
from engine.retrieval.choices import Choices, choices_from_json, choices_to_json
from engine.scene import Scene

if TYPE_CHECKING:  # the Document is a QObject; this module itself stays Qt-free
    from app.document.document import Document

FORMAT = "tessera-project"
VERSION = 1
SUFFIX = ".tessera"

SCENE_JSON = "scene.json"
LABELS_PNG = "labels.png"
INSTANCES_PNG = "instances.png"
NOISE_PNG = "noise.png"
LOCKED_PNG = "locked.png"
STYLE_MASK_PNG = "style_mask.png"
RENDER_PNG = "render.png"
EXEMPLARS_DIR = "exemplars/"
UNDERLAY_PNG = "underlay.png"
LINES_PNG = "lines.png"
DEPTH_PNG = "depth.png"
PROXY_PNG = "proxy.png"

_DAMAGED = "the file is damaged; open its autosave (if offered) or an earlier copy"


@dataclass
class ProjectState:
    """Everything a project file holds, detached from any Document."""

    label_set: LabelSet
    scene: Scene
    noise: NoiseField
    locked: np.ndarray
    model: str | None = None
    exemplars: list[dict[str, Any]] = field(default_factory=list)  # JSON objects; "file" → exemplar_files
    exemplar_files: dict[str, bytes] = field(default_factory=dict)  # name under exemplars/ → bytes
    settings: dict[str, Any] = field(default_factory=dict)  # interpolation weights etc., JSON-able
    render: np.ndarray | None = None  # H×W×3 uint8
    style_mask: np.ndarray | None = None  # H×W bool, where the second exemplar applies
    underlay: np.ndarray | None = None  # H×W×3 uint8: the photo a segmented painting came from
    guidance: Choices = ()  # RESAIL: retrieved segments chosen per region
    condition: str = LABELS  # ugen: which condition drives the image
    lines: np.ndarray | None = None  # ugen: H×W bool line drawing (None: empty)
    depth: np.ndarray | None = None  # ugen: H×W uint16 depth map, 0 = nearest (None: blank)
    proxy: np.ndarray | None = None  # ugen: r×r cluster ids edited by hand (None: not edited)
    style_w: np.ndarray | None = None  # ugen: (w_dim,) float32 in place of z (None: z rules)

    @property
    def size(self) -> tuple[int, int]:
        return self.scene.size


# ---------------------------------------------------------------------- Document glue
def state_of(
    doc: Document,
    *,
    exemplars: list[dict[str, Any]] | None = None,
    exemplar_files: Mapping[str, bytes] | None = None,
    settings: Mapping[str, Any] | None = None,
    render: np.ndarray | None = None,
) -> ProjectState:
    """A snapshot of ``doc`` (copies, so later painting does not change it).

    Exemplars and settings live in the style panel, not in the Document, so the caller
    passes them in.
    """
    return ProjectState(
        label_set=doc.label_set,
        scene=doc.scene.copy(),
        noise=doc.noise.copy(),
        locked=doc.locked.copy(),
        model=doc.model_name,
        exemplars=[dict(e) for e in exemplars or []],
        exemplar_files=dict(exemplar_files or {}),
        settings=dict(settings or {}),
        render=None if render is None else np.array(render, copy=True),
        style_mask=doc.style_mask.copy() if doc.style_mask.any() else None,
        underlay=None if doc.underlay is None else np.array(doc.underlay, copy=True),
        guidance=doc.guidance,  # immutable
        condition=doc.conditions.mode,
        lines=doc.conditions.lines.copy() if doc.conditions.lines.any() else None,
        depth=None if doc.conditions.depth_is_blank else doc.conditions.depth.copy(),
        proxy=None if doc.conditions.proxy is None else doc.conditions.proxy.copy(),
        style_w=None if doc.conditions.style_w is None else doc.conditions.style_w.copy(),
    )


def apply_to(doc: Document, state: ProjectState, path: Path | str | None) -> None:
    """Make ``doc`` show ``state`` (history cleared). Exemplars, settings and render are the caller's."""
    if state.noise.size != state.scene.size or state.locked.shape != state.scene.size:
        raise ValueError("the project state's maps differ in size")  # load_project never returns one
    # replace() keeps the old model when given None; a project without a model must not
    # inherit the previous document's (it may be for another label set).
    doc.model_name = state.model
    doc.replace(
        state.scene.copy(),
        state.noise.copy(),
        label_set=state.label_set,
        locked=state.locked.copy(),
        model=state.model,
        path=None if path is None else Path(path),
        style_mask=None if state.style_mask is None else state.style_mask.copy(),
        underlay=None if state.underlay is None else state.underlay.copy(),
        guidance=state.guidance,
        condition=state.condition,
        lines=None if state.lines is None else state.lines.copy(),
        depth=None if state.depth is None else state.depth.copy(),
        proxy=None if state.proxy is None else state.proxy.copy(),
        style_w=None if state.style_w is None else state.style_w.copy(),
    )


# ---------------------------------------------------------------------- saving
def save_project(path: Path | str, doc_state: ProjectState, render: np.ndarray | None = None) -> Path:
    """Write ``doc_state`` (with ``render`` if given, else ``doc_state.render``) to ``path`` atomically."""
    p = Path(path)
    members = _encode(doc_state, doc_state.render if render is None else render, p)

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            for name, (data, compress) in members.items():
                zf.writestr(name, data, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)

    return atomic_write(p, write)


def _encode(state: ProjectState, render: np.ndarray | None, p: Path) -> dict[str, tuple[bytes, bool]]:
    """Every member as (bytes, deflate?). PNGs are already compressed, so they are stored."""
    h, w = state.scene.size
    if state.noise.size != (h, w):
        raise ValueError(f"noise is {state.noise.size}, scene is {(h, w)}")
    locked = np.asarray(state.locked)
    if locked.shape != (h, w):
        raise ValueError(f"locked mask is {locked.shape}, scene is {(h, w)}")
    # A map the set does not know would make a file that cannot be opened again.
    state.label_set.validate(state.scene.labels, source=p)
    instances = state.scene.instances
    if instances.size and int(instances.max()) > pngmaps.MAX_ID16:
        raise InputError(
            f"instance ids go up to {int(instances.max())}; project files store them in 16 bits (≤ 65535)",
            source=p,
            fix="merge or repaint instances so that fewer ids are in use, then save again",
        )
    region_map, noise_meta = state.noise.to_state()
    ids = np.array(sorted(int(k) for k in noise_meta["regions"]), np.int64)
    ranks = np.searchsorted(ids, region_map)  # every id is listed, so this is exact

    files = _check_exemplars(state.exemplars, state.exemplar_files, p)
    scene_json = {
        "format": FORMAT,
        "version": VERSION,
        "size": [h, w],
        "label_set": state.label_set.to_dict(),
        "model": state.model,
        "noise": noise_meta,
        "exemplars": state.exemplars,
        "settings": state.settings,
    }
    if state.guidance:
        scene_json["guidance"] = choices_to_json(state.guidance)
    if state.condition != LABELS:
        scene_json["condition"] = state.condition
    if state.style_w is not None:  # float32 → JSON → float32 is exact
        scene_json["style_w"] = [float(v) for v in np.asarray(state.style_w, np.float32)]
    try:
        text = json.dumps(scene_json, indent=1, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"exemplar references and settings must be plain JSON: {exc}") from exc
    members: dict[str, tuple[bytes, bool]] = {
        SCENE_JSON: (text.encode("utf-8"), True),
        LABELS_PNG: (pngmaps.encode_ids16(state.scene.labels, "labels"), False),
        INSTANCES_PNG: (pngmaps.encode_ids16(instances, "instances"), False),
        NOISE_PNG: (pngmaps.encode_ids(ranks, "noise regions"), False),
        LOCKED_PNG: (pngmaps.encode_mask(locked), False),
    }
    if render is not None:
        members[RENDER_PNG] = (pngmaps.encode_rgb(render, "render"), False)
    if state.style_mask is not None:
        if state.style_mask.shape != (h, w):
            raise ValueError(f"style mask is {state.style_mask.shape}, scene is {(h, w)}")
        members[STYLE_MASK_PNG] = (pngmaps.encode_mask(state.style_mask), False)
    if state.underlay is not None:
        if state.underlay.shape[:2] != (h, w):
            raise ValueError(f"underlay is {state.underlay.shape[:2]}, scene is {(h, w)}")
        members[UNDERLAY_PNG] = (pngmaps.encode_rgb(state.underlay, "underlay"), False)
    if state.lines is not None:
        if state.lines.shape != (h, w):
            raise ValueError(f"line drawing is {state.lines.shape}, scene is {(h, w)}")
        members[LINES_PNG] = (pngmaps.encode_mask(state.lines), False)
    if state.depth is not None:
        if state.depth.shape != (h, w):
            raise ValueError(f"depth map is {state.depth.shape}, scene is {(h, w)}")
        members[DEPTH_PNG] = (pngmaps.encode_ids16(state.depth, "depth map"), False)
    if state.proxy is not None:
        members[PROXY_PNG] = (pngmaps.encode_ids16(state.proxy, "proxy mask"), False)
    for name, data in files.items():
        members[EXEMPLARS_DIR + name] = (bytes(data), True)
    return members


def _check_exemplars(
    refs: list[dict[str, Any]], files: Mapping[str, bytes], source: Path | str
) -> dict[str, bytes]:
    """Exemplar names must be plain relative paths, and every "file" reference must exist."""
    for name in files:
        parts = PurePosixPath(name).parts
        if not name or name.startswith("/") or "\\" in name or ".." in parts or name.endswith("/"):
            raise InputError(f"exemplar file name {name!r} is not a plain relative path", source=source)
    if not isinstance(refs, list) or not all(isinstance(r, Mapping) for r in refs):
        raise InputError("exemplar references must be a list of objects", source=source, fix=_DAMAGED)
    for ref in refs:
        name = ref.get("file")
        if name is not None and name not in files:
            raise InputError(
                f"exemplar reference points to {EXEMPLARS_DIR}{name}, which is not in the project",
                source=source,
                fix=_DAMAGED,
            )
    return dict(files)


# ---------------------------------------------------------------------- loading
def load_project(path: Path | str) -> ProjectState:
    """Read and fully check a project; any problem is an InputError naming ``path``."""
    p = Path(path)
    try:
        blob = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=p, fix="check the path of the project") from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", source=p) from None
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise InputError(
            f"not a Tessera project, or the file is truncated/damaged ({exc})", source=p, fix=_DAMAGED
        ) from None
    with zf:
        meta = _read_scene_json(_member(zf, SCENE_JSON, p), p)
        h, w = meta["size"]
        label_set: LabelSet = meta["label_set"]

        labels = _sized(pngmaps.decode_ids(_member(zf, LABELS_PNG, p), LABELS_PNG, p), LABELS_PNG, h, w, p)
        try:
            label_set.validate(labels, source=p)
        except InputError as exc:
            raise InputError(f"{LABELS_PNG}: {exc.problem}", source=p, fix=exc.fix) from None
        instances = pngmaps.decode_ids(_member(zf, INSTANCES_PNG, p), INSTANCES_PNG, p)
        instances = _sized(instances, INSTANCES_PNG, h, w, p)
        noise = _read_noise(_member(zf, NOISE_PNG, p), meta["noise"], h, w, p)
        locked = _sized(
            pngmaps.decode_mask(_member(zf, LOCKED_PNG, p), LOCKED_PNG, p), LOCKED_PNG, h, w, p
        ).astype(bool)
        style_mask = None
        if STYLE_MASK_PNG in zf.namelist():
            mask = pngmaps.decode_mask(_member(zf, STYLE_MASK_PNG, p), STYLE_MASK_PNG, p)
            style_mask = _sized(mask, STYLE_MASK_PNG, h, w, p).astype(bool)
        render = None
        if RENDER_PNG in zf.namelist():
            render = pngmaps.decode_rgb(_member(zf, RENDER_PNG, p), RENDER_PNG, p)
        underlay = None
        if UNDERLAY_PNG in zf.namelist():
            underlay = pngmaps.decode_rgb(_member(zf, UNDERLAY_PNG, p), UNDERLAY_PNG, p)
            if underlay.shape[:2] != (h, w):
                raise InputError(f"{UNDERLAY_PNG} does not match the canvas", source=p, fix=_DAMAGED)
        lines = None
        if LINES_PNG in zf.namelist():
            drawing = pngmaps.decode_mask(_member(zf, LINES_PNG, p), LINES_PNG, p)
            lines = _sized(drawing, LINES_PNG, h, w, p).astype(bool)
        depth = None
        if DEPTH_PNG in zf.namelist():
            values = pngmaps.decode_ids(_member(zf, DEPTH_PNG, p), DEPTH_PNG, p)
            depth = _sized(values, DEPTH_PNG, h, w, p).astype(np.uint16)  # checks 0..65535
        proxy = None
        if PROXY_PNG in zf.namelist():
            proxy = pngmaps.decode_ids(_member(zf, PROXY_PNG, p), PROXY_PNG, p).astype(np.int32)
            if proxy.ndim != 2 or proxy.shape[0] != proxy.shape[1] or not proxy.size:
                raise InputError(f"{PROXY_PNG} is not a square mask", source=p, fix=_DAMAGED)
        files = {
            name[len(EXEMPLARS_DIR) :]: _member(zf, name, p)
            for name in zf.namelist()
            if name.startswith(EXEMPLARS_DIR) and not name.endswith("/")
        }
    exemplars = meta["exemplars"]
    _check_exemplars(exemplars, files, p)
    guidance = choices_from_json(meta.get("guidance", []), str(p))
    for choice in guidance:
        if choice.box[2] > h or choice.box[3] > w:
            raise InputError(f"a guidance choice lies outside the {w}×{h} canvas", source=p, fix=_DAMAGED)
    return ProjectState(
        label_set=label_set,
        scene=Scene(labels.astype(np.uint16), instances.astype(np.int32)),
        noise=noise,
        locked=locked,
        model=meta["model"],
        exemplars=exemplars,
        exemplar_files=files,
        settings=meta["settings"],
        render=render,
        style_mask=style_mask,
        underlay=underlay,
        guidance=guidance,
        condition=meta["condition"],
        lines=lines,
        depth=depth,
        proxy=proxy,
        style_w=meta.get("style_w"),
    )


MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a 64-megapixel RGB render is 192 MB unpacked


def _member(zf: zipfile.ZipFile, name: str, p: Path) -> bytes:
    try:
        # zipfile stops at the declared size, so checking it bounds what inflating can take.
        size = zf.getinfo(name).file_size
        if size > MAX_MEMBER_BYTES:
            raise InputError(
                f"{name} would unpack to {size / 2**20:.0f} MiB, more than any project holds",
                source=p,
                fix=_DAMAGED,
            )
        return zf.read(name)
    except KeyError:
        raise InputError(f"the project has no {name}", source=p, fix=_DAMAGED) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # CRC mismatch, truncated data, unsupported compression or encryption
        raise InputError(f"{name} cannot be read ({exc})", source=p, fix=_DAMAGED) from None


def _sized(arr: np.ndarray, name: str, h: int, w: int, p: Path) -> np.ndarray:
    if arr.shape != (h, w):
        raise InputError(
            f"{name} is {arr.shape[1]}×{arr.shape[0]} but the project is {w}×{h}",
            source=p,
            fix=_DAMAGED,
        )
    if name != LOCKED_PNG and arr.size and (int(arr.min()) < 0 or int(arr.max()) > pngmaps.MAX_ID16):
        raise InputError(f"{name} holds values outside 0..65535", source=p, fix=_DAMAGED)
    return arr


def _read_scene_json(data: bytes, p: Path) -> dict[str, Any]:
    """Parse and check scene.json; returns it with ``label_set`` already built."""
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{SCENE_JSON} is not valid JSON ({exc})", source=p, fix=_DAMAGED) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise InputError(
            f"not a Tessera project ({SCENE_JSON} has format {found!r}, expected {FORMAT!r})",
            source=p,
            fix="open a .tessera file saved by Tessera",
        )
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{SCENE_JSON} has an invalid version {version!r}", source=p, fix=_DAMAGED)
    if version > VERSION:
        raise InputError(
            f"the project was saved by a newer Tessera (project version {version}; "
            f"this one reads up to {VERSION})",
            source=p,
            fix="update Tessera to open it",
        )
    size = meta.get("size")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise InputError(f"{SCENE_JSON} has an invalid size {size!r}", source=p, fix=_DAMAGED)
    model = meta.get("model")
    if model is not None and not isinstance(model, str):
        raise InputError(f"{SCENE_JSON} has an invalid model {model!r}", source=p, fix=_DAMAGED)
    for key, kind in (("exemplars", list), ("settings", dict), ("noise", dict)):
        value = meta.setdefault(key, kind())
        if not isinstance(value, kind):
            raise InputError(f"{SCENE_JSON}: {key!r} must be a JSON {kind.__name__}", source=p, fix=_DAMAGED)
    condition = meta.setdefault("condition", LABELS)
    if condition not in MODES:
        raise InputError(
            f"{SCENE_JSON} has an unknown condition {condition!r}", source=p, fix=f"use one of {MODES}"
        )
    style_w = meta.get("style_w")
    if style_w is not None:
        numbers = isinstance(style_w, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in style_w
        )
        if not numbers or not style_w or not np.isfinite(np.asarray(style_w, np.float64)).all():
            raise InputError(
                f"{SCENE_JSON}: 'style_w' must be a list of finite numbers", source=p, fix=_DAMAGED
            )
        meta["style_w"] = np.asarray(style_w, np.float32)
    if "label_set" not in meta:
        raise InputError(f"{SCENE_JSON} has no label set", source=p, fix=_DAMAGED)
    try:
        meta["label_set"] = LabelSet.from_dict(meta["label_set"])
    except InputError as exc:
        raise InputError(f"{SCENE_JSON} label set: {exc.problem}", source=p, fix=_DAMAGED) from None
    return meta


def _read_noise(data: bytes, meta: dict[str, Any], h: int, w: int, p: Path) -> NoiseField:
    regions = meta.get("regions")
    if not isinstance(regions, Mapping) or not regions:
        raise InputError(f"{SCENE_JSON}: the noise lists no regions", source=p, fix=_DAMAGED)
    try:
        ids = np.array(sorted(int(k) for k in regions), np.int64)
    except (TypeError, ValueError):
        raise InputError(f"{SCENE_JSON}: noise region ids must be integers", source=p, fix=_DAMAGED) from None
    ranks = pngmaps.decode_ids(data, NOISE_PNG, p, allow_rgb24=True)
    if ranks.shape != (h, w):
        raise InputError(
            f"{NOISE_PNG} is {ranks.shape[1]}×{ranks.shape[0]} but the project is {w}×{h}",
            source=p,
            fix=_DAMAGED,
        )
    if int(ranks.max()) >= len(ids):
        raise InputError(
            f"{NOISE_PNG} refers to region #{int(ranks.max())}, but {SCENE_JSON} lists {len(ids)} regions",
            source=p,
            fix=_DAMAGED,
        )
    if ids.min() < 0 or ids.max() > np.iinfo(np.int32).max:
        raise InputError(f"{SCENE_JSON}: noise region ids must be in 0..2**31-1", source=p, fix=_DAMAGED)
    try:
        return NoiseField.from_state(ids[ranks].astype(np.int32), meta)
    except InputError as exc:
        raise InputError(f"{SCENE_JSON} noise: {exc.problem}", source=p, fix=exc.fix or _DAMAGED) from None
