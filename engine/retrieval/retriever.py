"""Live retrieval for a map being painted: only what a stroke changed is retrieved again.

A :class:`Retriever` keeps the last map's segments and their matches. After a stroke,
:meth:`Retriever.update` re-decomposes only the classes whose pixels (or instance ids)
changed, keys every segment by (class, box, mask digest), and scores only keys it has not
seen — a cache remembers recent keys, so undoing a stroke costs no retrieval. The update
reports which segments are new, which are gone, and which were scored.

The choice of database segment per query segment is the best match unless the painter
chose another rank (:meth:`choose`); a pinned choice (:meth:`pin`) follows its region
when the region is repainted (to the new segment of the class that overlaps it most).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InputError
from engine.retrieval.choices import Choice, Patch, overlap, resolve
from engine.retrieval.database import SegmentDatabase
from engine.retrieval.guidance import Guidance, compose_guidance
from engine.retrieval.score import Matches, RetrievalParams
from engine.retrieval.segments import COVERAGE, MIN_AREA, Segment, SegmentKey, decompose


@dataclass(frozen=True)
class RetrievalUpdate:
    """What an update changed; indices point into ``segments``."""

    segments: list[Segment]  # every segment of the new map
    changed: list[int]  # segments the previous map did not have (redraw their guidance)
    removed: list[SegmentKey]  # keys the previous map had and this one has not
    retrieved: list[int]  # segments scored against the database in this update


@dataclass(frozen=True)
class RetrievalState:
    """What the retriever holds for one map, detached from later updates (a view reads it
    on another thread while the next map is retrieved)."""

    labels: np.ndarray
    instances: np.ndarray | None
    segments: list[Segment]
    matches: list[Matches]
    rows: list[int | None]  # the row guiding each segment (None: no match, or a patch)
    pinned: list[bool]
    patches: list[Patch | None]  # the painter's own pixels guiding a segment instead of a row
    guidance: Guidance | None = None  # the image those rows composed, where the caller kept it

    def segment_at(self, y: int, x: int) -> int | None:
        """The index of the segment under pixel (y, x), or None."""
        return _segment_at(self.segments, y, x)


class Retriever:
    """Segments, matches and choices of the map being painted."""

    def __init__(
        self,
        db: SegmentDatabase,
        params: RetrievalParams | None = None,
        *,
        coverage: float | None = None,
        min_area: int | None = None,
        exclude_source: int | None = None,
        cache_size: int = 4096,
    ) -> None:
        built = db.info.get("options", {}) if isinstance(db.info.get("options"), dict) else {}
        self.db = db
        self.params = params or RetrievalParams()
        # By default a query is decomposed the way the database was built.
        self.coverage = float(coverage if coverage is not None else built.get("coverage", COVERAGE))
        self.min_area = int(min_area if min_area is not None else built.get("min_area", MIN_AREA))
        self.exclude_source = exclude_source
        self.cache_size = cache_size
        self.segments: list[Segment] = []
        self.matches: list[Matches] = []
        self.labels: np.ndarray | None = None
        self.instances: np.ndarray | None = None
        self._cache: OrderedDict[SegmentKey, Matches] = OrderedDict()
        self._choices: dict[SegmentKey, int] = {}  # key → database row
        self._pinned: set[SegmentKey] = set()
        self._patches: dict[SegmentKey, Patch] = {}  # key → the painter's pixels (beats a row)
        self._kept: dict[SegmentKey, int] = {}  # key → the row an edited region keeps (update)
        self._things = sorted(db.thing_ids)
        dontcare = db.label_set.dontcare
        self._ignore = () if dontcare is None else (dontcare,)

    # ------------------------------------------------------------------ updates
    def _decompose(self, labels: np.ndarray, instances: np.ndarray | None) -> list[Segment]:
        """The new map's segments, re-decomposing only classes the change touched."""
        prev, prev_inst = self.labels, self.instances
        if prev is None or prev.shape != labels.shape or (prev_inst is None) != (instances is None):
            classes = None
        else:
            diff = prev != labels
            if instances is not None and prev_inst is not None:
                diff |= prev_inst != instances
            if not diff.any():
                return self.segments
            classes = set(np.unique(prev[diff]).tolist()) | set(np.unique(labels[diff]).tolist())
        fresh = decompose(
            labels, instances, self._things, coverage=self.coverage, min_area=self.min_area,
            ignore=self._ignore, classes=classes,
        )  # fmt: skip
        if classes is None:
            return fresh
        kept = [s for s in self.segments if s.class_id not in classes]
        # Stable sort by class: the same order a full decomposition gives.
        return sorted(kept + fresh, key=lambda s: s.class_id)

    def update(
        self, labels: np.ndarray, instances: np.ndarray | None = None, *, keep_looks: bool = False
    ) -> RetrievalUpdate:
        """Take the map after a stroke; retrieve what changed.

        ``keep_looks``: a region reshaped by an edit keeps the segment that guided it by
        default (nobody chose it) while that segment is still among its matches, instead of
        jumping to the new best one — a bush painted into a meadow should not re-texture the
        whole meadow. Off for a new map (its regions have no history). A chosen segment
        follows the region only when pinned, as before."""
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise InputError(
                f"the label map has shape {labels.shape}, not H×W",
                source="labels",
                fix="pass one class id a pixel",
            )
        if instances is not None and np.shape(instances) != labels.shape:
            raise InputError(
                f"the instance map is {np.shape(instances)} but the label map {labels.shape}",
                source="instances",
                fix="pass maps of one size",
            )
        segments = self._decompose(labels, instances)
        # Only looks nobody chose: an unpinned choice ends with its region (what Pin is for).
        used = {
            s.key: self.choice(i)
            for i, s in enumerate(self.segments)
            if keep_looks and s.key not in self._choices and s.key not in self._patches
        }
        before = {s.key: m for s, m in zip(self.segments, self.matches)}
        todo = [i for i, s in enumerate(segments) if s.key not in before and s.key not in self._cache]
        scored = self.db.retrieve([segments[i] for i in todo], labels.shape, self.params,
                                  exclude_source=self.exclude_source)  # fmt: skip
        found = dict(zip((segments[i].key for i in todo), scored))
        matches = []
        for s in segments:
            # Not `or`: a Matches without rows is falsy.
            m = before[s.key] if s.key in before else found[s.key] if s.key in found else self._cache[s.key]
            self._cache[s.key] = m
            self._cache.move_to_end(s.key)
            matches.append(m)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        now = {s.key for s in segments}
        changed = [i for i, s in enumerate(segments) if s.key not in before]
        removed = [s for s in self.segments if s.key not in now]
        self._carry_choices(removed, [segments[i] for i in changed])
        self._keep_looks(removed, changed, segments, matches, used)
        self.segments, self.matches = segments, matches
        self.labels = labels.copy()  # the document edits its arrays in place
        self.instances = None if instances is None else np.array(instances, copy=True)
        return RetrievalUpdate(segments, changed, [s.key for s in removed], todo)

    def _keep_looks(
        self,
        removed: list[Segment],
        changed: list[int],
        segments: list[Segment],
        matches: list[Matches],
        used: dict[SegmentKey, int | None],
    ) -> None:
        """Each reshaped region inherits the row its largest-overlap predecessor of the same
        class was guided by, when that row is among its own matches (see ``update``)."""
        now = {s.key for s in segments}
        self._kept = {k: r for k, r in self._kept.items() if k in now}
        for i in changed:
            new = segments[i]
            best = max(
                ((overlap(old, new), old) for old in removed if old.class_id == new.class_id),
                default=(0, None), key=lambda t: t[0],
            )  # fmt: skip
            row = used.get(best[1].key) if best[1] is not None and best[0] > 0 else None
            if row is not None and row in set(matches[i].rows.tolist()):
                self._kept[new.key] = row

    def _carry_choices(self, removed: list[Segment], added: list[Segment]) -> None:
        """Pinned choices move to the new segment of their class that overlaps them most."""
        for old in removed:
            self._patches.pop(old.key, None)  # only apply() sets patches, and it resolves pins
            row = self._choices.pop(old.key, None)
            if old.key not in self._pinned:
                continue
            self._pinned.discard(old.key)
            overlaps = [(overlap(old, new), i) for i, new in enumerate(added) if new.class_id == old.class_id]
            best = max(overlaps, default=(0, -1))
            if best[0] > 0 and row is not None:
                heir = added[best[1]].key
                self._choices[heir] = row
                self._pinned.add(heir)

    # ------------------------------------------------------------------ choices
    def _index_of(self, key: SegmentKey) -> int:
        for i, s in enumerate(self.segments):
            if s.key == key:
                return i
        raise KeyError(f"no segment {key[:2]} in the current map")

    def segment_at(self, y: int, x: int) -> int | None:
        """The index of the segment under pixel (y, x), or None (skipped or unsegmented)."""
        return _segment_at(self.segments, y, x)

    def choice(self, index: int) -> int | None:
        """The database row guiding segment ``index``: the chosen one, else the best, else None."""
        key = self.segments[index].key
        if key in self._choices:
            return self._choices[key]
        if key in self._kept:
            return self._kept[key]
        m = self.matches[index]
        return int(m.rows[0]) if len(m) else None

    def choose(self, key: SegmentKey, rank: int) -> int:
        """Guide segment ``key`` by its ``rank``-th match (0 = best); returns the database row."""
        m = self.matches[self._index_of(key)]
        if not 0 <= rank < len(m):
            raise IndexError(f"rank {rank} out of range: this segment has {len(m)} matches")
        self._choices[key] = int(m.rows[rank])
        return self._choices[key]

    def pin(self, key: SegmentKey, pinned: bool = True) -> None:
        """Keep (or stop keeping) segment ``key``'s current choice when its region is repainted."""
        index = self._index_of(key)
        if not pinned:
            self._pinned.discard(key)
            return
        row = self.choice(index)
        if row is not None:
            self._choices[key] = row
            self._pinned.add(key)

    def is_pinned(self, key: SegmentKey) -> bool:
        return key in self._pinned

    def apply(self, choices: Sequence[Choice]) -> dict[int, Choice]:
        """Replace every choice and pin by ``choices`` (kept elsewhere, e.g. in a studio
        document) resolved against the current segments; returns segment index → choice."""
        applied = resolve(choices, self.segments, self.db.table.classes)
        self._patches = {self.segments[i].key: c.patch for i, c in applied.items() if c.patch is not None}
        self._choices = {self.segments[i].key: c.row for i, c in applied.items() if c.patch is None}
        self._pinned = {self.segments[i].key for i, c in applied.items() if c.pinned}
        return applied

    def state(self, guidance: Guidance | None = None) -> RetrievalState:
        """The current map's segments, matches and choices (``guidance``: its image, if made)."""
        if self.labels is None:
            raise ValueError("no map yet: call update() first")
        return RetrievalState(
            self.labels,
            self.instances,
            list(self.segments),
            list(self.matches),
            [None if s.key in self._patches else self.choice(i) for i, s in enumerate(self.segments)],
            [s.key in self._pinned for s in self.segments],
            [self._patches.get(s.key) for s in self.segments],
            guidance,
        )

    def guidance(self) -> Guidance:
        """The guidance image of the current map with the current choices."""
        if self.labels is None:
            raise ValueError("no map yet: call update() first")
        chosen: list[int | tuple[np.ndarray, np.ndarray] | None] = []
        for i, s in enumerate(self.segments):
            patch = self._patches.get(s.key)
            chosen.append((patch.rgb, patch.mask) if patch is not None else self.choice(i))
        return compose_guidance(self.labels, self.segments, chosen, self.db)


def _segment_at(segments: Sequence[Segment], y: int, x: int) -> int | None:
    for i, s in enumerate(segments):
        y0, x0, y1, x1 = s.box
        if y0 <= y < y1 and x0 <= x < x1 and s.mask[y - y0, x - x0]:
            return i
    return None
