"""``backend="auto"``: measure the candidate backends once per (weights, size, device),
keep the fastest that matches eager fp32 within its tolerance, and remember the choice.

Choices live in memory (per process) and in ``backend-choices.json`` in the user cache,
keyed by the weights digest, H×W and a device fingerprint that includes the CPU/GPU
model, torch's thread count and the library versions: new hardware or a library
upgrade measures again.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch

from engine.fileio import atomic_write_bytes
from engine.hardware import cpu_model
from engine.inference.backends.base import Backend, Inputs, max_abs_diff, run_on
from engine.inference.backends.names import BF16_TOLERANCE, DESCRIPTIONS, TOLERANCES
from engine.paths import user_cache_dir

CACHE_FILE = "backend-choices.json"
CACHE_FORMAT = "tessera-backend-choices"
MAX_ENTRIES = 256  # oldest choices are dropped beyond this
# A faster backend must beat eager by this fraction to be picked: within timing noise the
# exact reference wins.
MIN_GAIN = 0.05


@dataclass
class Measurement:
    backend: str
    description: str
    tolerance: float
    passed: bool = False
    max_abs_diff: float | None = None  # vs eager fp32 on the very input being generated
    p50_ms: float | None = None
    times_ms: list[float] = field(default_factory=list)
    error: str = ""  # why it could not be built or run


@dataclass
class Decision:
    backend: str
    height: int
    width: int
    device: str  # fingerprint, see device_fingerprint()
    weights_hash: str
    measurements: list[Measurement]
    cached: bool = False  # read from the cache rather than measured in this call

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.backend]

    def summary(self) -> str:
        """One line for logs and the CLI, e.g. "eager 120 ms, onnx-cpu 80 ms → onnx-cpu"."""
        parts = []
        for m in self.measurements:
            if m.error:
                parts.append(f"{m.backend} unavailable")
            elif not m.passed:
                parts.append(f"{m.backend} off by {m.max_abs_diff:.2g} (> {m.tolerance:g})")
            else:
                parts.append(f"{m.backend} {m.p50_ms:.0f} ms")
        return f"{', '.join(parts)} → {self.backend}" + (" (remembered)" if self.cached else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "description": self.description}

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        fields = {k: v for k, v in d.items() if k not in ("measurements", "description", "cached")}
        return cls(**fields, measurements=[Measurement(**m) for m in d["measurements"]], cached=True)


def device_fingerprint(device: torch.device) -> str:
    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:
        ort = "none"
    if device.type == "cuda":
        hw = torch.cuda.get_device_name(device)
    else:
        hw = f"{cpu_model()} ×{torch.get_num_threads()} threads"
    return f"{device.type}: {hw} | torch {torch.__version__} | onnxruntime {ort}"


def decision_key(digest: str, height: int, width: int, device: str) -> str:
    # The tolerance is part of the key: a choice made under another one is measured again.
    return f"{digest}|{height}x{width}|{device}|bf16 ≤ {BF16_TOLERANCE:g}"


# ---------------------------------------------------------------- the cache

_memory: dict[str, Decision] = {}
_lock = threading.Lock()


def _read_disk() -> dict[str, dict]:
    try:
        data = json.loads((user_cache_dir() / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return {}  # missing or damaged: it is only a cache, measure again
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    choices = data.get("choices")
    return choices if isinstance(choices, dict) else {}


def lookup(key: str) -> Decision | None:
    with _lock:
        if key in _memory:
            return replace(_memory[key], cached=True)
        entry = _read_disk().get(key)
        try:
            decision = Decision.from_dict(entry) if entry else None
        except (TypeError, KeyError):
            return None  # written by another version: measure again
        if decision is not None and decision.backend in DESCRIPTIONS:
            _memory[key] = decision
            return decision
        return None


def store(key: str, decision: Decision) -> None:
    with _lock:
        _memory[key] = decision
        choices = _read_disk()
        choices.pop(key, None)
        choices[key] = {k: v for k, v in decision.to_dict().items() if k not in ("cached", "description")}
        choices = dict(list(choices.items())[-MAX_ENTRIES:])
        data = {"format": CACHE_FORMAT, "version": 1, "choices": choices}
        try:
            atomic_write_bytes(user_cache_dir() / CACHE_FILE, (json.dumps(data, indent=1) + "\n").encode())
        except OSError:
            pass  # a read-only cache only costs a measurement next time


def forget_in_memory() -> None:
    """Drop the in-process choices (tests; after changing thread counts)."""
    with _lock:
        _memory.clear()


# ---------------------------------------------------------------- measuring


def _timed_run(backend: Backend, inputs: Inputs) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    out = run_on(backend, inputs)
    if out.is_cuda:
        torch.cuda.synchronize(out.device)
    return out, (time.perf_counter() - start) * 1000


def measure(
    builders: dict[str, Callable[[], Backend]],
    inputs: Inputs,
    *,
    runs: int = 3,
    time_failures: bool = False,
) -> tuple[str, list[Measurement], torch.Tensor]:
    """Time each backend on this input and check it against eager; return the pick.

    ``builders`` maps names to constructors and must contain "eager". Each backend runs
    once as warm-up (that output is the parity check; the first run also pays for lazy
    initialisation), then ``runs`` timed runs; one that fails parity is not timed unless
    ``time_failures`` (benchmarks), and never chosen. Returns the chosen name, the
    measurements and the chosen backend's image for this input.
    """
    reference, _ = _timed_run(builders["eager"](), inputs)
    results: list[Measurement] = []
    outputs: dict[str, torch.Tensor] = {}
    for name, build in builders.items():
        try:
            backend = build()
            m = Measurement(name, backend.description, backend.tolerance)
            out = reference if name == "eager" else _timed_run(backend, inputs)[0]
            m.max_abs_diff = 0.0 if name == "eager" else max_abs_diff(out, reference)
            m.passed = m.max_abs_diff <= m.tolerance
            if m.passed or time_failures:
                m.times_ms = [round(_timed_run(backend, inputs)[1], 2) for _ in range(runs)]
                m.p50_ms = round(statistics.median(m.times_ms), 2)
            if m.passed:
                outputs[name] = out
        except Exception as exc:  # anything that fails only rules this candidate out
            error = f"{type(exc).__name__}: {exc}"
            m = Measurement(name, DESCRIPTIONS.get(name, name), TOLERANCES.get(name, 0.0), error=error)
        results.append(m)
    eager_ms = next(m.p50_ms for m in results if m.backend == "eager")
    best = min((m for m in results if m.passed), key=lambda m: m.p50_ms)
    if best.p50_ms > eager_ms * (1 - MIN_GAIN):
        best = next(m for m in results if m.backend == "eager")
    return best.backend, results, outputs[best.backend]
