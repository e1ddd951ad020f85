"""The dataset interface every reader implements, and the checks they share.

A reader only knows its layout: where images, label maps and instance maps live and how
their names pair up (:meth:`SegmentationDataset.scan`). Everything else is shared here,
so every layout reports problems the same way: a missing pair, an image and label map of
different sizes, or ids outside the label set is a :class:`DatasetError` that names the
file, the value and the fix (including ``--skip-bad``, which drops such entries after one
validation scan instead of failing).

Loading is lazy: opening a dataset lists files and pairs them; pixels are read in
``__getitem__``, so opening 100k images takes seconds and DataLoader workers share the work.

This module knows no reader: which kinds exist and how "KIND:PATH" opens one is
:mod:`engine.data.registry`.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.depth_image import read_depth_image
from engine.errors import DatasetError, InputError
from engine.labels import LabelSet, read_label_png
from engine.limits import check_pixels

SKIP_BAD_FIX = "or pass --skip-bad to skip (and count) such entries"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_PIL_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)
# Integer PIL modes an instance map may have: 8-bit, 16-bit or 32-bit grey, or indexed.
_INSTANCE_MODES = frozenset({"L", "P", "I", "I;16", "I;16L", "I;16B", "I;16N"})


@dataclass
class Sample:
    """One training example, in the project's data model."""

    stem: str
    image: np.ndarray  # H×W×3 uint8 RGB
    labels: np.ndarray  # H×W uint16 ids of the dataset's LabelSet
    instances: np.ndarray | None  # H×W int32, 0 = no instance; None when the dataset has none
    # H×W float32 in [0, 1], 0 = near, 1 = far/sky (engine.depth_image); None without depth maps
    depth: np.ndarray | None = None


@dataclass(frozen=True)
class Entry:
    """Where one sample's files are; ``stem`` is the name shared by the pair."""

    stem: str
    image_path: Path
    label_path: Path
    instance_path: Path | None = None
    depth_path: Path | None = None


Problem = tuple[str, str]
"""(file, reason) for an entry that cannot be used."""


def list_files(folder: Path, suffixes: Iterable[str]) -> list[Path]:
    """Files in ``folder`` with one of ``suffixes`` (any case), sorted; hidden files skipped.

    Hidden files are skipped because macOS litters copied folders with ``._name.png``
    resource forks that are not images.
    """
    wanted = tuple(s.lower() for s in suffixes)
    try:
        with os.scandir(folder) as it:
            found = [
                Path(e.path)
                for e in it
                if not e.name.startswith(".") and e.name.lower().endswith(wanted) and e.is_file()
            ]
    except FileNotFoundError:
        return []
    return sorted(found)


def index_by_stem(
    files: Iterable[Path], stem_of: Callable[[Path], str | None] | None = None
) -> tuple[dict[str, Path], list[Problem]]:
    """Map stem → file; a stem that occurs twice (``a.png`` and ``a.jpg``) is a problem.

    ``stem_of`` turns a file into its stem, or None to ignore the file (e.g. Cityscapes
    files that do not end in the expected suffix).
    """
    out: dict[str, Path] = {}
    problems: list[Problem] = []
    for f in files:
        stem = stem_of(f) if stem_of is not None else f.stem
        if stem is None:
            continue
        if stem in out:
            problems.append((str(f), f"another file has the same stem '{stem}': {out[stem].name}"))
            continue
        out[stem] = f
    return out, problems


def pair_by_stem(
    images: Mapping[str, Path],
    labels: Mapping[str, Path],
    instances: Mapping[str, Path] | None = None,
    *,
    expected_label: Callable[[str], Path],
    expected_image: Callable[[str], Path],
) -> tuple[list[Entry], list[Problem]]:
    """Pair images and label maps by stem; each unpaired file is a problem naming its missing twin.

    Instance maps are optional, so one without a pair is ignored rather than reported.
    """
    entries: list[Entry] = []
    problems: list[Problem] = []
    instances = instances or {}
    for stem in sorted(images.keys() | labels.keys()):
        image, label = images.get(stem), labels.get(stem)
        if image is None:
            assert label is not None
            problems.append((str(label), f"label map without an image (expected {expected_image(stem)})"))
        elif label is None:
            problems.append((str(image), f"image without a label map (expected {expected_label(stem)})"))
        else:
            entries.append(Entry(stem, image, label, instances.get(stem)))
    return entries, problems


def attach_depth(
    entries: list[Entry], depths: Mapping[str, Path], depth_dir: Path
) -> tuple[list[Entry], list[Problem]]:
    """Give each entry its depth map by stem. Depth is optional for a dataset, but once it has
    any, every image needs one: a batch mixing samples with and without depth cannot be made."""
    if not depths:
        return entries, []
    kept: list[Entry] = []
    problems: list[Problem] = []
    for entry in entries:
        path = depths.get(entry.stem)
        if path is None:
            problems.append(
                (str(entry.image_path), f"image without a depth map (expected {depth_dir / entry.stem}.png)")
            )
        else:
            kept.append(dataclasses.replace(entry, depth_path=path))
    return kept, problems


def scan_image_label_dirs(image_dir: Path, label_dir: Path) -> tuple[list[Entry], list[Problem]]:
    """Pair photos in ``image_dir`` with ``.png`` label maps in ``label_dir`` by file stem
    (the layout ADE20K and COCO-Stuff share)."""
    images, p1 = index_by_stem(list_files(image_dir, IMAGE_SUFFIXES))
    labels, p2 = index_by_stem(list_files(label_dir, (".png",)))
    entries, p3 = pair_by_stem(
        images,
        labels,
        expected_label=lambda s: label_dir / f"{s}.png",
        expected_image=lambda s: image_dir / f"{s}.jpg",
    )
    return entries, p1 + p2 + p3


def split_folder(parent: Path, split: str, aliases: Mapping[str, str], *, layout: str = "") -> str:
    """The folder name of ``split`` under ``parent`` ("train" → "training" for ADE20K, …).

    The official names are accepted too, so ``--split validation`` works as well as ``val``.
    """
    name = aliases.get(split, split)
    if (parent / name).is_dir():
        return name
    present = sorted(d.name for d in parent.iterdir() if d.is_dir()) if parent.is_dir() else []
    ours = {v: k for k, v in aliases.items()}
    usable = [f"{ours[n]} ({n})" if n in ours else n for n in present]
    raise DatasetError(
        f"no '{split}' split: {parent / name} does not exist",
        source=parent,
        fix=(
            f"use one of the splits {', '.join(usable)}"
            if usable
            else f"the dataset should look like {layout}"
            if layout
            else "check the dataset folder"
        ),
    )


def read_image(path: Path) -> np.ndarray:
    """An image file as H×W×3 uint8 RGB.

    EXIF orientation is deliberately ignored: dataset label maps are aligned with the
    stored pixels, not with how a photo viewer would rotate them.
    """
    try:
        with Image.open(path) as im:
            check_pixels(*im.size, path)
            im.load()
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise DatasetError("image file not found", source=path, fix="check the dataset folder") from None
    except _PIL_ERRORS as exc:
        raise DatasetError(
            f"cannot read the image ({exc})",
            source=path,
            fix=f"replace or delete the file, {SKIP_BAD_FIX}",
        ) from exc


def read_instance_png(path: Path) -> np.ndarray:
    """An instance-id PNG (8/16/32-bit grey or indexed) as H×W int32."""
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im) if mode in _INSTANCE_MODES else None
    except FileNotFoundError:
        raise DatasetError("instance map not found", source=path, fix="check the dataset folder") from None
    except _PIL_ERRORS as exc:
        raise DatasetError(
            f"cannot read the instance map ({exc})",
            source=path,
            fix=f"replace or delete the file, {SKIP_BAD_FIX}",
        ) from exc
    if arr is None or arr.ndim != 2:
        raise DatasetError(
            f"the instance map has PIL mode {mode}, not integer ids",
            source=path,
            fix=f"save instance ids as an 8- or 16-bit grey PNG (0 = no instance), {SKIP_BAD_FIX}",
        )
    out = arr.astype(np.int32)
    if out.size and int(out.min()) < 0:
        raise DatasetError(
            f"negative instance id {int(out.min())}",
            source=path,
            fix=f"instance ids are >= 0 (0 = no instance), {SKIP_BAD_FIX}",
        )
    return out


def read_depth_png(path: Path) -> np.ndarray:
    """A depth map (16- or 8-bit grey PNG, :mod:`engine.depth_image`) as H×W float32 in [0, 1]."""
    try:
        return read_depth_image(path)
    except InputError as exc:
        raise DatasetError(exc.problem, source=exc.source or path, fix=f"{exc.fix}; {SKIP_BAD_FIX}") from exc


def image_size(path: Path) -> tuple[int, int]:
    """(H, W) from the file header alone: the validation scan must not decode every photo."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            return h, w
    except FileNotFoundError:
        raise DatasetError("file not found", source=path, fix="check the dataset folder") from None
    except _PIL_ERRORS as exc:
        raise DatasetError(
            f"cannot read the file ({exc})", source=path, fix=f"replace or delete it, {SKIP_BAD_FIX}"
        ) from exc


def _check_size(entry: Entry, what: str, other: Path, hw_image: tuple[int, int], hw: tuple[int, int]) -> None:
    """Raise if a label or instance map (``other``, ``hw``) does not match its image's size."""
    if hw != hw_image:
        raise DatasetError(
            f"the {what} is {hw[1]}×{hw[0]} but its image {entry.image_path.name} is "
            f"{hw_image[1]}×{hw_image[0]} (W×H)",
            source=other,
            fix=f"re-export the {what} at the image's size, {SKIP_BAD_FIX}",
        )


class SegmentationDataset(ABC):
    """(image, label map, optional instance map) triples of one split of one layout.

    Subclasses set ``kind`` and ``layout`` and implement :meth:`scan` (and usually
    :meth:`default_label_set`); opening, pairing, validation and loading are shared.
    """

    kind: ClassVar[str]
    layout: ClassVar[str]  # the expected folder layout, shown when none is found

    def __init__(
        self,
        root: str | Path,
        *,
        split: str = "train",
        label_set: LabelSet | None = None,
        skip_bad: bool = False,
    ) -> None:
        self.root = self.find_root(Path(root))
        self.split = split
        if not self.root.is_dir():
            raise DatasetError(
                "dataset folder not found" if not self.root.exists() else "not a folder",
                source=self.root,
                fix=f"pass the dataset's root folder; a {self.kind} dataset looks like {self.layout}",
            )
        self.label_set: LabelSet = label_set if label_set is not None else self.default_label_set()
        self.skipped: list[Problem] = []
        entries, problems = self.scan()
        if problems and not skip_bad:
            file, reason = problems[0]
            more = f" (and {len(problems) - 1} more such files)" if len(problems) > 1 else ""
            raise DatasetError(
                reason + more,
                source=file,
                fix=f"add the missing file or delete this one, {SKIP_BAD_FIX}",
            )
        self.skipped.extend(problems)
        if skip_bad and entries:
            entries = self._drop_bad(entries)
        if not entries:
            why = f" ({len(self.skipped)} bad entries skipped)" if self.skipped else ""
            raise DatasetError(
                f"no usable '{split}' samples found{why}",
                source=self.root,
                fix=f"a {self.kind} dataset looks like {self.layout}",
            )
        self.entries: list[Entry] = entries

    # ------------------------------------------------------------------ per layout
    @abstractmethod
    def scan(self) -> tuple[list[Entry], list[Problem]]:
        """List this split's entries, sorted by stem, and the files that have no pair."""

    def default_label_set(self) -> LabelSet:
        """The label set used when ``open_dataset`` is given none."""
        raise DatasetError(
            f"a {self.kind} dataset needs a label set",
            source=self.root,
            fix="pass a label set (a built-in name or a label-set JSON file)",
        )

    @classmethod
    def find_root(cls, root: Path) -> Path:
        """The layout's root given the folder the user named (identity unless a layout knows better)."""
        return root

    def convert_instances(self, raw: np.ndarray) -> np.ndarray:
        """Turn the stored instance values into ours (0 = no instance); identity by default."""
        return raw

    @classmethod
    def detect(cls, root: Path) -> bool:
        """Whether ``root`` looks like this layout (for auto-detection from a bare path)."""
        return False

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Sample:
        return self.load(self.entries[index])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.root)!r}, split={self.split!r}, "
            f"{len(self)} samples, label_set={self.label_set.name!r})"
        )

    def read_labels(self, path: Path) -> np.ndarray:
        """A label map as uint16 ids, validated against the label set."""
        try:
            return read_label_png(path, self.label_set)
        except DatasetError:
            raise
        except InputError as exc:
            fix = f"{exc.fix}; {SKIP_BAD_FIX}" if exc.fix else f"fix the file, {SKIP_BAD_FIX}"
            raise DatasetError(exc.problem, source=exc.source or path, fix=fix) from exc

    def load(self, entry: Entry) -> Sample:
        """Read one entry's pixels; sizes and ids are checked, problems name the file."""
        image = read_image(entry.image_path)
        labels = self.read_labels(entry.label_path)
        hw = image.shape[:2]
        _check_size(entry, "label map", entry.label_path, hw, labels.shape[:2])
        instances = None
        if entry.instance_path is not None:
            instances = self.convert_instances(read_instance_png(entry.instance_path))
            _check_size(entry, "instance map", entry.instance_path, hw, instances.shape[:2])
        depth = None
        if entry.depth_path is not None:
            depth = read_depth_png(entry.depth_path)
            _check_size(entry, "depth map", entry.depth_path, hw, depth.shape[:2])
        return Sample(entry.stem, image, labels, instances, depth)

    def check(self, entry: Entry) -> None:
        """Validate one entry: the image decodes in full (a file cut after its header
        passes a header check and would stop training later), sizes agree, label ids exist.

        Raises :class:`DatasetError`; used by the ``skip_bad`` scan.
        """
        hw = read_image(entry.image_path).shape[:2]
        labels = self.read_labels(entry.label_path)
        _check_size(entry, "label map", entry.label_path, hw, labels.shape[:2])
        # read_label_png validated already; np.unique is a cheap second guard for maps
        # that a subclass decodes on its own.
        ids = np.unique(labels)
        bad = [int(i) for i in ids if int(i) not in self.label_set]
        if bad:
            raise DatasetError(
                f"ids {bad[:10]} are not in label set '{self.label_set.name}'",
                source=entry.label_path,
                fix=f"relabel those pixels, {SKIP_BAD_FIX}",
            )
        if entry.instance_path is not None:
            _check_size(entry, "instance map", entry.instance_path, hw, image_size(entry.instance_path))
        if entry.depth_path is not None:
            _check_size(entry, "depth map", entry.depth_path, hw, read_depth_png(entry.depth_path).shape[:2])

    def _drop_bad(self, entries: list[Entry]) -> list[Entry]:
        """Run :meth:`check` on every entry (threads: PNG decoding releases the GIL)."""

        def one(entry: Entry) -> Problem | None:
            try:
                self.check(entry)
            except InputError as exc:
                return (exc.source or str(entry.image_path), exc.problem)
            return None

        workers = min(8, os.cpu_count() or 1, len(entries))
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(one, entries))
        else:
            results = [one(e) for e in entries]
        kept = []
        for entry, problem in zip(entries, results):
            if problem is None:
                kept.append(entry)
            else:
                self.skipped.append(problem)
        return kept
