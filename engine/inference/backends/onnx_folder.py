"""``generator.onnx`` in a weights folder: written by ``app-train export --onnx``, checked
against ``generator.safetensors`` with eager fp32 before it is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.checkpoints import load_weights
from engine.errors import WeightsError
from engine.inference.backends.base import example_inputs, max_abs_diff, weights_hash
from engine.inference.backends.names import FP32_TOLERANCE
from engine.inference.backends.onnx_runtime import (
    FOLDER_FILE,
    OPSET,
    OnnxRuntime,
    export_generator,
    stamped_hash,
)
from engine.inference.backends.torch_backends import TorchEager
from engine.networks.blocks import fold_spectral_norm
from engine.networks.oasis import OasisGenerator


def parity_sizes(size_multiple: int) -> list[tuple[int, int]]:
    """About 64×64 in multiples of the model's, and a taller-than-wide one; the export is
    traced wider than tall, so this also checks that H and W are really dynamic."""
    s = max(size_multiple, round(64 / size_multiple) * size_multiple)
    return [(s, s), (s + size_multiple, s)]


def _folded_generator(folder: Path) -> OasisGenerator:
    weights = load_weights(folder, family="oasis", parts=("generator",))
    return fold_spectral_norm(weights.nets["generator"]).eval()


def verify_folder_onnx(folder: Path | str, *, onnx_path: Path | None = None) -> list[float]:
    """Max abs difference of ONNX Runtime (CPU) to eager fp32 at ``parity_sizes``; raises a
    WeightsError naming the file if any exceeds 1e-4."""
    folder = Path(folder)
    named = folder / FOLDER_FILE  # what errors name, also while a new export is checked elsewhere
    path = onnx_path or named
    generator = _folded_generator(folder)
    cfg = generator.config
    eager, runtime = TorchEager(generator), OnnxRuntime(path, "cpu")
    diffs = []
    for seed, (h, w) in enumerate(parity_sizes(cfg.size_multiple)):
        onehot, noise = example_inputs(cfg.semantic_nc, cfg.z_dim, h, w, seed=seed)
        diff = max_abs_diff(runtime.run(onehot, noise), eager.run(onehot, noise))
        diffs.append(diff)
        if not diff <= FP32_TOLERANCE:  # also catches NaN
            stale = stamped_hash(path) != weights_hash(generator)
            raise WeightsError(
                f"{FOLDER_FILE} does not match generator.safetensors: max abs difference {diff:.3g} at "
                f"{h}×{w} (allowed {FP32_TOLERANCE:g})"
                + ("; it was exported from other weights" if stale else "")
                + ("; the new export was not kept" if path != named else ""),
                source=named,
                fix=f"export it again with `app-train export --onnx --out {folder}`; if the check fails "
                "again, use the eager backend and report the ONNX Runtime version",
            )
    return diffs


def write_folder_onnx(folder: Path | str, *, log: Callable[[str], None] = print) -> Path:
    """Export the folder's generator to ``generator.onnx`` and keep it only if it passes."""
    folder = Path(folder)
    generator = _folded_generator(folder)
    path = folder / FOLDER_FILE
    # Checked under a temporary name, so a failed check never leaves a bad generator.onnx.
    candidate = folder / f".{FOLDER_FILE}.unchecked"
    export_generator(generator, candidate, weights_hash=weights_hash(generator))
    try:
        diffs = verify_folder_onnx(folder, onnx_path=candidate)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    candidate.replace(path)
    sizes = ", ".join(f"{h}×{w}" for h, w in parity_sizes(generator.config.size_multiple))
    log(f"wrote {path} (ONNX opset {OPSET}, dynamic H, W; max abs diff to eager {max(diffs):.1e} at {sizes})")
    return path
