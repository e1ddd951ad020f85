"""The RESAIL match score on hand-made masks, threshold rejection, top-k, and the fast path."""

from __future__ import annotations

import numpy as np
import pytest

from engine.retrieval.score import ClassIndex, RetrievalParams, pack_grid, popcount, sigma

G = 8  # grid side of these tests: 64 cells, one word a mask


def _words(grids: list[np.ndarray]) -> np.ndarray:
    """Masks packed word-major (W × N), as ClassIndex keeps them."""
    return np.stack([pack_grid(g) for g in grids], axis=1)


def _sigma_of(query: np.ndarray, q_area: float, grids: list[np.ndarray], areas: list[float], **kw: float):
    cells = np.array([g.sum() for g in grids])
    params = RetrievalParams(**kw)
    return sigma(pack_grid(query), int(query.sum()), q_area, _words(grids), cells, np.array(areas), params)


def test_hand_computed_scores() -> None:
    full = np.ones((G, G), bool)
    l_shape = full.copy()
    l_shape[:4, 4:] = False  # 16 of 64 cells off
    half = np.zeros((G, G), bool)
    half[:, :4] = True  # 32 cells
    # σ_shape = SSD / max(cells): 16/64, 32/64, 0/64; σ_scale from the area ratios
    # t = 12/16 (0), 8/16 = 0.5 (0: t ≥ 0.5), 7/16 (1).
    got = _sigma_of(full, 16 / 256, [l_shape, half, full], [12 / 256, 8 / 256, 7 / 256])
    assert got == pytest.approx([0.25, 0.5, 1.0])
    # the larger of the two cell counts divides: the L shape as query, the full grid as candidate
    assert _sigma_of(l_shape, 12 / 256, [full], [16 / 256]) == pytest.approx([16 / 64])
    # γ weighs σ_shape only; the scale ratio is a parameter
    assert _sigma_of(full, 0.1, [half], [0.02], gamma=2.0) == pytest.approx([1 + 2 * 0.5])
    assert _sigma_of(full, 0.1, [half], [0.02], scale_ratio=0.1) == pytest.approx([0.5])


def test_popcount_matches_python_with_and_without_numpy_2(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    words = (rng.integers(0, 2**63, 50, dtype=np.int64).view(np.uint64) * np.uint64(3)).reshape(5, 10)
    want = [[bin(int(w)).count("1") for w in row] for row in words]
    assert popcount(words).tolist() == want
    monkeypatch.delattr(np, "bitwise_count", raising=False)  # numpy 1.26: the byte table
    assert popcount(words).tolist() == want


def _index(grids: list[np.ndarray], areas: list[float], sources: list[int] | None = None) -> ClassIndex:
    words = np.stack([pack_grid(g) for g in grids])
    n = len(grids)
    src = np.asarray(sources if sources is not None else range(n), np.int32)
    return ClassIndex(np.arange(n), words, np.asarray(areas), src, G)


def _shapes() -> list[np.ndarray]:
    """Five candidates at σ_shape 0, 4/64, 8/64, 16/64 and 32/64 from the full grid."""
    out = []
    for off in (0, 4, 8, 16, 32):
        g = np.ones(G * G, bool)
        g[:off] = False
        out.append(g.reshape(G, G))
    return out


def test_threshold_rejects_and_top_k_orders() -> None:
    full = np.ones((G, G), bool)
    index = _index(_shapes(), [0.1] * 5)
    q = pack_grid(full)
    m = index.query(q, 0.1, RetrievalParams(threshold=0.15))
    assert m.rows.tolist() == [0, 1, 2] and m.scores == pytest.approx([0, 4 / 64, 8 / 64])
    m = index.query(q, 0.1, RetrievalParams(threshold=0.3, k=2))
    assert m.rows.tolist() == [0, 1]
    assert len(index.query(q, 0.1, RetrievalParams(threshold=0.5))) == 5
    # a different scale (t < 0.5) costs 1: rejected at 0.15, kept (after the others) at 1.5
    far = _index([*_shapes(), full], [0.1] * 5 + [0.01])
    assert 5 not in far.query(q, 0.1, RetrievalParams(threshold=0.15)).rows
    m = far.query(q, 0.1, RetrievalParams(threshold=1.5, k=10))
    assert m.rows.tolist() == [0, 1, 2, 3, 4, 5] and m.scores[-1] == pytest.approx(1.0)


def test_ties_go_to_the_lower_row_and_exclusion_drops_a_source() -> None:
    full = np.ones((G, G), bool)
    index = _index([full, full, full], [0.1, 0.1, 0.1], sources=[4, 2, 4])
    q = pack_grid(full)
    assert index.query(q, 0.1, RetrievalParams(k=2)).rows.tolist() == [0, 1]
    assert index.query(q, 0.1, RetrievalParams(), exclude_source=4).rows.tolist() == [1]


@pytest.mark.parametrize(
    ("threshold", "gamma"), [(0.15, 1.0), (0.35, 1.0), (0.3, 0.5), (0.8, 2.0), (1.5, 1.0), (0.2, 0.0)]
)
def test_the_fast_path_equals_brute_force(threshold: float, gamma: float) -> None:
    """The area window and the quadrant bound only skip candidates that cannot pass."""
    rng = np.random.default_rng(1)
    n = 400
    base = rng.random((n, G, G)) < rng.random((n, 1, 1))
    grids = [g for g in base]
    areas = rng.uniform(0.01, 0.2, n)
    index = _index(grids, list(areas), sources=list(rng.integers(0, 20, n)))
    params = RetrievalParams(k=7, threshold=threshold, gamma=gamma)
    words = _words(grids)
    cells = np.array([g.sum() for g in grids])
    for i in range(25):
        query = grids[i] ^ (rng.random((G, G)) < 0.05)
        area = float(areas[i] * rng.uniform(0.8, 1.25))
        scores = sigma(pack_grid(query), int(query.sum()), area, words, cells, areas, params)
        ok = np.flatnonzero(scores <= params.threshold)
        want = ok[np.lexsort((ok, scores[ok]))][: params.k]
        got = index.query(pack_grid(query), area, params)
        assert got.rows.tolist() == want.tolist()
        assert got.scores == pytest.approx(scores[want])


def test_parameters_are_checked() -> None:
    for bad in ({"k": 0}, {"threshold": -0.1}, {"gamma": -1.0}, {"scale_ratio": 0.0}):
        with pytest.raises(ValueError):
            RetrievalParams(**bad)
