"""Incremental OASIS synthesis after a brush stroke vs a full recompute (engine/inference/incremental.py).

The paper configuration (ADE20K: 151 classes, channels_G 64) with random official-init
weights and spectral norm folded, at 256². A "stroke" paints a 32-px disc of one class
at a random place; each timed update follows a new disc on top of the previous ones.
About a minute, so ``python -m benchmarks --quick`` leaves it out; smoke runs take the
small config at 128².
"""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.settings import Settings
from benchmarks.timing import percentiles, timed

CLASSES = 151
SIZE = (256, 256)
BRUSH = 32


def _paper_generator(small: bool = False):
    from engine.networks.blocks import fold_spectral_norm, init_official
    from engine.networks.oasis import OasisConfig, OasisGenerator

    torch.manual_seed(0)
    g = OasisGenerator((OasisConfig.small if small else OasisConfig.paper)(CLASSES).generator)
    init_official(g)
    return fold_spectral_norm(g).eval()


def _scene(rng: np.random.Generator, size: tuple[int, int]) -> torch.Tensor:
    """ADE-like layout: a dozen large class regions (blocky), as (1, H, W) class indices."""
    h, w = size
    coarse = torch.from_numpy(rng.integers(0, CLASSES, (1, h // 32, w // 32)))
    return coarse.repeat_interleave(32, 1).repeat_interleave(32, 2)


def _onehot(labels: torch.Tensor) -> torch.Tensor:
    return torch.zeros(1, CLASSES, *labels.shape[1:]).scatter_(1, labels[:, None], 1.0)


def _disc(labels: torch.Tensor, rng: np.random.Generator, drag: int = 0) -> tuple[int, int, int, int]:
    """Paint a BRUSH-px disc (dragged ``drag`` px to the right) of a random class; returns its box."""
    h, w = labels.shape[1:]
    r = BRUSH / 2
    cy, cx = (int(v) for v in rng.integers(0, (h, w - drag)))
    y, x = np.ogrid[:h, :w]
    mask = np.zeros((h, w), bool)
    for dx in range(0, drag + 1, 4):
        mask |= (y - cy + 0.5) ** 2 + (x - cx - dx + 0.5) ** 2 <= r * r
    labels[0][torch.from_numpy(mask)] = int(rng.integers(0, CLASSES))
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def bench_incremental(settings: Settings) -> list[dict]:
    from engine.inference.incremental import IncrementalOasis
    from engine.networks.oasis import expand_noise

    quick = settings.quick  # fewer variants and strokes; smoke runs keep them all, on a small net
    canvas = settings.pick(SIZE, SIZE, (128, 128))
    g = _paper_generator(small=settings.smoke)
    rng = np.random.default_rng(0)
    labels = _scene(rng, canvas)
    z = expand_noise(torch.randn(1, g.config.z_dim), *canvas).contiguous()  # the paper's sampling: one vector
    repeats = settings.pick(20, 5, 1)
    size = f"{canvas[0]}x{canvas[1]}"
    cases = []
    with torch.no_grad():
        onehot = _onehot(labels)  # the eager reference's input
        base = {"family": "oasis", "size": size, "classes": CLASSES, "channels_g": g.config.channels_g}
        eager = timed(lambda: g(onehot, z), repeats=repeats, warmup=1)
        from engine.inference.backends.torch_backends import bf16_sensible
        from engine.inference.tokens import Tokens

        vector = z[0, :, 0, 0]
        token_vectors = torch.cat((vector.expand(CLASSES, -1), torch.eye(CLASSES)), 1)  # token = class

        # How inputs arrive: prepared outside the timed call (as the studio prepares them
        # on its own), then handed to the update.
        def dense(edited: torch.Tensor):
            onehot = _onehot(edited)
            return lambda inc, box: inc.update(onehot, z, box)

        def tokens(edited: torch.Tensor):
            given = Tokens(edited.clone(), token_vectors)
            return lambda inc, box: inc.update_tokens(given, box)

        # (tag, net options, input form)
        variants = [("", {}, dense), (", tokens", {}, tokens)]
        if bf16_sensible(torch.device("cpu")):
            variants.append((", tokens bf16", {"precision": "bf16"}, tokens))
        if not quick:
            variants.append((", no one-hot gather", {"onehot_gather": False}, dense))
        for tag, options, prepare in variants:
            inc = IncrementalOasis(g, **options)
            first = prepare(labels)
            full = timed(lambda inc=inc, first=first: first(inc, None), repeats=repeats, warmup=1)
            cases.append({
                "name": "incremental:oasis-paper full", **base,
                "backend": f"torch incremental{tag}", **full, "ratio_vs_full": 1.0,
                "ratio_vs_eager": round(eager["p50_ms"] / full["p50_ms"], 2),
            })  # fmt: skip
            strokes = [("brush32 disc", 0)] if quick else [("brush32 disc", 0), ("brush32 drag64", 64)]
            for name, drag in strokes:
                times = []
                first(inc, None)
                edited = labels.clone()
                for i in range(repeats + 1):  # one stroke after the other, as in the studio
                    box = _disc(edited, rng, drag)
                    update = prepare(edited)
                    start = time.perf_counter()
                    update(inc, box)
                    if i:  # the first is a warm-up
                        times.append((time.perf_counter() - start) * 1000)
                    assert not inc.last_was_full
                stats = percentiles(times)
                cases.append({
                    "name": f"incremental:oasis-paper {name}", **base,
                    "backend": f"torch incremental{tag}", **stats,
                    "ratio_vs_full": round(full["p50_ms"] / stats["p50_ms"], 2),
                    "ratio_vs_eager": round(eager["p50_ms"] / stats["p50_ms"], 2),
                })  # fmt: skip
        cases.append({
            "name": "incremental:oasis-paper generator forward", **base, "backend": "torch-eager-fp32",
            **eager, "ratio_vs_eager": 1.0,
        })  # fmt: skip
    return cases


if __name__ == "__main__":
    import json
    import sys

    mode = next((m for m in ("quick", "smoke") if f"--{m}" in sys.argv), "full")
    print(json.dumps(bench_incremental(Settings(mode)), indent=2))
