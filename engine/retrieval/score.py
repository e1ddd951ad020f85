"""The RESAIL match score and the per-class candidate index it is computed over.

Supplement A.1, eqs. 2–4 (lower is more similar):

    t       = min(area_i, area_j) / max(area_i, area_j)
    σ_scale = 1 if t < 0.5 else 0
    σ_shape = SSD(M̂_i, M̂_j) / max(‖M̂_i‖₁, ‖M̂_j‖₁)     (M̂: the masks stretched to one grid)
    σ       = σ_scale + γ·σ_shape,   γ = 1

Areas are taken as fractions of their image's area, so a 512² painting matches a 256²
database as a 256² one would; at equal sizes this is the paper's pixel ratio. (The
official code compares bounding-box areas; the supplement says mask areas, which we follow.)

For binary masks SSD is the number of differing cells, so every mask is kept as packed
bits and σ_shape is a popcount of an XOR over all of a class's candidates at once.
Candidates are sorted by area: whenever the threshold is below 1 a σ_scale of 1 can never
pass, so only the area window [a/2, 2a] has to be scored — a slice found by bisection —
and within it a cheap lower bound on the SSD from the masks' quadrant counts skips most
of the rest (:meth:`ClassIndex.candidates`). Both skip only candidates that cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.15  # supplement Table B: the best FID (45.49) of 0.15 … 0.58
TOP_K = 10  # the official code's topk

_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of every uint64, as uint8."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(words)
    as_bytes = _BYTE_POPCOUNT[np.ascontiguousarray(words).view(np.uint8)]
    return as_bytes.reshape(*words.shape, 8).sum(axis=-1, dtype=np.uint8)


def popcount_columns(words: np.ndarray) -> np.ndarray:
    """Set bits per column of a (W, N) uint64 array: one mask a column.

    Masks are held word-major (W × N) because numpy is ~3× faster running each operation
    along N candidates than along a mask's W = 16 words.
    """
    return popcount(words).sum(axis=0, dtype=np.int64)


def pack_grid(grid: np.ndarray) -> np.ndarray:
    """A boolean G×G grid (G a multiple of 8) as G²/64 uint64 words."""
    return np.packbits(grid.reshape(-1)).view(np.uint64)


def quadrant_counts(words: np.ndarray, grid: int, chunk: int = 4096) -> np.ndarray:
    """Set cells in each quadrant of N packed G×G masks (N × G²/64 words), as 4 × N int32."""
    out = np.empty((4, len(words)), np.int32)
    half = grid // 2
    for start in range(0, len(words), chunk):  # unpacked, a chunk is G² bytes a mask
        cells = np.unpackbits(words[start : start + chunk].view(np.uint8), axis=1)
        cells = cells.reshape(-1, 2, half, 2, half).sum(axis=(2, 4), dtype=np.int32)
        out[:, start : start + chunk] = cells.reshape(-1, 4).T
    return out


@dataclass(frozen=True)
class RetrievalParams:
    """How candidates are scored and kept."""

    k: int = TOP_K  # matches kept per query segment
    threshold: float = THRESHOLD  # σ above this is no match (Table B)
    gamma: float = 1.0  # weight of σ_shape (the paper's γ)
    scale_ratio: float = 0.5  # t below this costs σ_scale = 1

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if not self.threshold >= 0:
            raise ValueError(f"threshold must be >= 0, got {self.threshold}")
        if not self.gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma}")
        if not 0 < self.scale_ratio <= 1:
            raise ValueError(f"scale_ratio must be in (0, 1], got {self.scale_ratio}")


@dataclass(frozen=True)
class Matches:
    """A query segment's accepted candidates, best first: database rows and their σ."""

    rows: np.ndarray  # int64
    scores: np.ndarray  # float64, ascending

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def none() -> Matches:
        return Matches(np.zeros(0, np.int64), np.zeros(0, np.float64))


def sigma(
    query_words: np.ndarray,
    query_cells: int,
    query_area: float,
    words: np.ndarray,
    cells: np.ndarray,
    areas: np.ndarray,
    params: RetrievalParams,
) -> np.ndarray:
    """σ of one query (W words) against many candidates (W × N words, word-major) (eq. 4);
    ``cells`` = ‖M̂‖₁, areas as fractions of their images."""
    differing = popcount_columns(words ^ query_words[:, None])
    shape = differing / np.maximum(np.maximum(cells, query_cells), 1)
    t = np.minimum(areas, query_area) / np.maximum(np.maximum(areas, query_area), 1e-12)
    return (t < params.scale_ratio) + params.gamma * shape


class ClassIndex:
    """One class's candidates, sorted by area, ready to be scored as a block."""

    def __init__(
        self, rows: np.ndarray, words: np.ndarray, areas: np.ndarray, sources: np.ndarray, grid: int
    ) -> None:
        order = np.lexsort((rows, areas))  # by area, ties by row: deterministic
        self.grid = grid
        self.rows = rows[order].astype(np.int64)
        self.words = np.ascontiguousarray(words[order].T)  # W × N, see popcount_columns
        self.cells = popcount_columns(self.words)
        self.quads = quadrant_counts(words[order], grid)  # 4 × N, see candidates()
        self.areas = areas[order].astype(np.float64)
        self.sources = sources[order]

    def __len__(self) -> int:
        return len(self.rows)

    def window(self, area: float, params: RetrievalParams) -> slice:
        """The candidates that can pass the threshold; all of them when σ_scale may be 1."""
        if params.threshold >= 1:
            return slice(0, len(self.rows))
        # Slightly wide bounds; the exact t test is left to sigma() on the slice.
        lo = np.searchsorted(self.areas, area * params.scale_ratio * (1 - 1e-9), side="left")
        hi = np.searchsorted(self.areas, area / params.scale_ratio * (1 + 1e-9), side="right")
        return slice(int(lo), int(hi))

    def candidates(self, quads: np.ndarray, area: float, params: RetrievalParams) -> np.ndarray:
        """Positions that can pass the threshold, found without a popcount.

        The area window is a slice. Within it, the cells of each mask quadrant bound the
        SSD from below (Σ_q |n_q(M̂_i) − n_q(M̂_j)| ≤ SSD), so a candidate whose quadrant
        counts differ by more than r·max(‖M̂_i‖₁, ‖M̂_j‖₁) (r = threshold / γ) cannot pass
        either: on the landscapes trees this leaves 1 in 8 to be scored.
        """
        part = self.window(area, params)
        r = params.threshold / params.gamma if params.gamma > 0 else np.inf
        if r >= 1 or part.stop <= part.start:
            return np.arange(part.start, part.stop)
        cells = int(quads.sum())
        bound = np.abs(self.quads[:, part] - quads[:, None]).sum(axis=0)
        limit = r * np.maximum(self.cells[part], cells) * (1 + 1e-9)  # equality stays in
        return part.start + np.flatnonzero(bound <= limit)

    def query(
        self,
        words: np.ndarray,
        area: float,
        params: RetrievalParams,
        exclude_source: int | None = None,
    ) -> Matches:
        """The top-k candidates with σ ≤ threshold, best first (ties by database row)."""
        cells = int(popcount(words).sum())
        found = self.candidates(quadrant_counts(words[None], self.grid)[:, 0], area, params)
        if exclude_source is not None:
            found = found[self.sources[found] != exclude_source]
        if found.size == 0:
            return Matches.none()
        scores = sigma(words, cells, area, self.words[:, found], self.cells[found], self.areas[found], params)
        keep = scores <= params.threshold
        found, scores = found[keep], scores[keep]
        if found.size > params.k:
            part = np.argpartition(scores, params.k - 1)[: params.k]
            # argpartition may cut through a tie at the k-th score; take every tied one
            # back so the order below, not the partition, decides who is in.
            part = np.union1d(part, np.flatnonzero(scores == scores[part].max()))
            found, scores = found[part], scores[part]
        rows = self.rows[found]
        order = np.lexsort((rows, scores))[: params.k]
        return Matches(rows[order], scores[order])
