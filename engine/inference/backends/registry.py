"""Making backends by name: ``resolve_choice`` (the user's ``backend=`` value),
``auto_candidates`` (what ``auto`` measures on a device) and ``build_backend``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from engine.inference.backends.base import Backend, BackendUnavailable
from engine.inference.backends.gather import GatherBackend
from engine.inference.backends.names import CHOICES, DESCRIPTIONS
from engine.inference.backends.onnx_runtime import PROVIDERS, OnnxRuntime, onnx_backend_names, onnx_model_for
from engine.inference.backends.torch_backends import TorchBF16, TorchEager, bf16_sensible
from engine.networks.oasis import OasisGenerator


def resolve_choice(choice: str, device: torch.device) -> str:
    """A user's ``backend=`` value → a backend name or "auto"; "onnx" means the device's provider."""
    if choice not in CHOICES:
        raise BackendUnavailable(
            f"unknown backend '{choice}'", source="backend", fix=f"use one of {', '.join(CHOICES)}"
        )
    if choice == "onnx":
        return "onnx-cuda" if device.type == "cuda" else "onnx-cpu"
    return choice


def auto_candidates(device: torch.device) -> list[str]:
    """Backends ``auto`` measures on ``device``, the reference first."""
    bf16 = ["gather-bf16", "bf16"] if bf16_sensible(device) else []
    return ["eager", "gather", *bf16, *onnx_backend_names(device)]


def build_backend(
    name: str,
    generator: OasisGenerator,
    device: torch.device,
    *,
    weights_digest: Callable[[], str],
    folder: Path | None = None,
) -> Backend:
    """Make backend ``name`` for ``generator`` (spectral norm already folded, on ``device``).

    ``weights_digest`` is called only by the ONNX backends (hashing big weights takes a
    moment); ``folder`` is the weights folder, whose generator.onnx is used if it matches.
    """
    if name == "eager":
        return TorchEager(generator)
    if name == "bf16":
        return TorchBF16(generator, device)
    if name in ("gather", "gather-bf16"):
        return GatherBackend(generator, "fp32" if name == "gather" else "bf16")
    provider = name.removeprefix("onnx-")
    if name.startswith("onnx-") and provider in PROVIDERS:
        if provider != "cpu" and device.type != "cuda":
            raise BackendUnavailable(
                f"'{name}' needs a CUDA device; this model runs on {device}",
                source="backend",
                fix="use device 'cuda', or the 'onnx-cpu' backend",
            )
        return OnnxRuntime(onnx_model_for(generator, weights_digest(), folder), provider)
    raise BackendUnavailable(
        f"unknown backend '{name}'", source="backend", fix=f"use one of {', '.join(DESCRIPTIONS)}"
    )
