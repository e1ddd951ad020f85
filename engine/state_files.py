"""Reading other people's weight files safely: plain state dicts only, never pickled code.

Used for the files a user points us at — FID's Inception-v3, a local VGG-19 — where a
truncated download or a hostile pickle must end in a clear error, not in running code.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from engine.errors import WeightsError


def read_state_dict(path: Path, what: str, fix: str) -> dict[str, Tensor]:
    """The tensors of ``path`` (.pth/.pt via ``torch.load(weights_only=True)``, or
    .safetensors); ``what`` names the weights in errors, ``fix`` says how to get good ones."""
    if not path.is_file():
        raise WeightsError(f"{what} file not found", source=path, fix=fix)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: object = load_file(str(path))
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated, corrupt or hostile file
        # torch's own text runs to many lines and suggests weights_only=False, which we never do.
        detail = str(exc).strip().split("\n")[0].split(". ")[0]
        if detail.startswith("Weights only load failed"):
            detail = "it holds more than plain tensors, or its bytes are damaged"
        raise WeightsError(
            f"cannot read this file safely — truncated, corrupt or not a PyTorch file "
            f"({type(exc).__name__}: {detail[:160]})",
            source=path,
            fix=f"{fix}; only plain state dicts are accepted",
        ) from exc
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):  # a training checkpoint
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise WeightsError(f"not a state dict of tensors (got {type(obj).__name__})", source=path, fix=fix)
    # Weights saved from a DataParallel wrapper carry a "module." prefix.
    return {str(k).removeprefix("module."): v for k, v in obj.items()}


def require_layout(
    state: dict[str, Tensor],
    wanted: dict[str, Tensor],
    path: Path,
    what: str,
    fix: str,
    *,
    allow_extra: bool = True,
) -> None:
    """Refuse ``state`` unless it has every key of ``wanted`` with the same shape (and, with
    ``allow_extra=False``, nothing else); the error names the first difference."""
    missing = [k for k in wanted if k not in state]
    extra = [] if allow_extra else [k for k in state if k not in wanted]
    if missing or extra:
        found = f"no {missing[0]} (and {len(missing) - 1} more)" if missing else f"an unexpected {extra[0]}"
        raise WeightsError(f"not {what}: {found}", source=path, fix=fix)
    for key, value in wanted.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise WeightsError(
                f"{key} has shape {list(state[key].shape)}, {what} has {list(value.shape)}",
                source=path,
                fix=fix,
            )
