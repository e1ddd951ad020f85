"""Weights folders: ``config.json`` + safetensors + ``CARD.md`` (see DESIGN.md "Files").

Loading validates everything before a net is touched: the folder, the format, the
family, every file's integrity, every key and shape. Each failure is a ``WeightsError``
naming the file and the fix. Nothing here unpickles anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from engine.errors import InputError, WeightsError
from engine.fileio import atomic_write_bytes
from engine.registry import ModelSpec

CONFIG = "config.json"
CARD = "CARD.md"


def save_state_dict(path: Path, state: dict[str, torch.Tensor]) -> None:
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}
    atomic_write_bytes(path, save(tensors, metadata={"format": "tessera-weights"}))


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError("file is missing", source=path, fix="re-export the weights folder")
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(
            f"not a readable safetensors file — truncated or corrupt ({exc})",
            source=path,
            fix="copy the weights folder again, or re-export it with `app-train export`",
        ) from exc


def check_state_dict(module: nn.Module, state: dict[str, torch.Tensor], source: Path | str) -> None:
    """Every key present, none extra, every shape right — or one error listing what is not."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    # Keys a module added later and fills in itself when absent (its OPTIONAL_STATE).
    optional = set(getattr(module, "OPTIONAL_STATE", ()))
    missing = sorted(set(expected) - set(got) - optional)
    extra = sorted(set(got) - set(expected))
    shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if not (missing or extra or shapes):
        # A diverged run can export NaN or infinite weights: every image would be garbage.
        broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if broken:
            raise WeightsError(
                f"{len(broken)} tensors hold NaN or infinite values, e.g. {broken[:3]}",
                source=source,
                fix="export an earlier checkpoint of the run (training diverged), or re-export these weights",
            )
        return
    lines = []
    if missing:
        lines.append(f"{len(missing)} missing keys, e.g. {missing[:5]}")
    if extra:
        lines.append(f"{len(extra)} unexpected keys, e.g. {extra[:5]}")
    for k in shapes[:5]:
        lines.append(f"{k}: shape {list(got[k])}, expected {list(expected[k])}")
    raise WeightsError(
        "weights do not fit the architecture in config.json: " + "; ".join(lines),
        source=source,
        fix="use the config.json that was exported with these weights",
    )


MAX_PARAMETERS = 2_000_000_000  # far above any released model (OASIS ADE20K: 94 M)


def check_size(spec: ModelSpec) -> None:
    """Refuse architectures whose nets would not fit any machine, before allocating them:
    the parameters are counted on the meta device, which holds no memory."""
    import copy
    import dataclasses

    from engine.registry import FAMILIES

    # Spectral norm changes no parameter count but is slow to set up on the meta device.
    arch = copy.deepcopy(spec.arch)
    for config in (arch, *vars(arch).values()):
        if hasattr(config, "spectral_norm"):
            config.spectral_norm = False
    counted = dataclasses.replace(spec, arch=arch)
    family = FAMILIES[spec.family]
    for part in family.builders:
        if not family.has_part(spec.arch, part):
            continue
        if part == "generator_live" or (part == "encoder" and getattr(spec.arch, "encoder", True) is None):
            continue
        try:
            with torch.device("meta"):
                count = sum(p.numel() for p in counted.build(part).parameters())
        except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"the {part} cannot be built from this architecture ({exc})") from exc
        if count > MAX_PARAMETERS:
            raise ValueError(f"the {part} would have {count:,} parameters (the limit is {MAX_PARAMETERS:,})")


def read_spec(folder: Path | str, family: str | None = None) -> ModelSpec:
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError(
            "weights folder not found",
            source=folder,
            fix="pass a folder made by `app-train export`",
        )
    config_path = folder / CONFIG
    if not config_path.is_file():
        raise WeightsError(
            "no config.json: this is not a Tessera weights folder",
            source=folder,
            fix="pass a folder made by `app-train export` or `app-train import`",
        )
    try:
        config = json.loads(config_path.read_text())
        if not isinstance(config, dict):
            raise ValueError(f"it holds a JSON {type(config).__name__}, not an object")
        spec = ModelSpec.from_dict(config)
        check_size(spec)
    except InputError:
        raise
    except RecursionError:
        raise WeightsError(
            "config.json is nested too deeply to be a weights configuration",
            source=config_path,
            fix="re-export the folder; do not edit config.json by hand",
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(
            f"config.json is malformed ({exc})",
            source=config_path,
            fix="re-export the folder; do not edit config.json by hand",
        ) from exc
    if family is not None and spec.family != family:
        raise WeightsError(
            f"this is a '{spec.family}' model; a '{family}' model is needed here",
            source=folder,
            fix=f'pick a weights folder whose config.json says "family": "{family}"',
        )
    return spec


@dataclass
class LoadedWeights:
    folder: Path
    spec: ModelSpec
    nets: dict[str, nn.Module]


def load_weights(
    folder: Path | str,
    *,
    family: str | None = None,
    parts: Iterable[str] | None = None,
    optional: Iterable[str] | None = None,
) -> LoadedWeights:
    """Read a weights folder and build the requested nets (in eval mode, on CPU). Without
    ``parts`` the family's own: the generator for most, rearranger and proxy centroids
    (and whichever mappers the folder has) for ugen."""
    from engine.registry import FAMILIES

    folder = Path(folder)
    spec = read_spec(folder, family)
    nets: dict[str, nn.Module] = {}
    if parts is None:
        parts = FAMILIES[spec.family].default_parts
        optional = FAMILIES[spec.family].default_optional if optional is None else optional
    optional = set(optional or ())
    for part in [*parts, *optional]:
        path = folder / f"{part}.safetensors"
        if part in optional and not path.is_file():
            continue
        state = load_state_dict(path)
        net = spec.build(part)
        check_state_dict(net, state, path)
        net.load_state_dict(state, strict=True)
        nets[part] = net.eval()
    return LoadedWeights(folder, spec, nets)


def save_weights(
    folder: Path | str, spec: ModelSpec, states: dict[str, dict[str, torch.Tensor]], card: str
) -> Path:
    """Write config.json, one safetensors file per net, and CARD.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for part, state in states.items():
        check_state_dict(spec.build(part), state, folder / f"{part}.safetensors")
        save_state_dict(folder / f"{part}.safetensors", state)
    atomic_write_bytes(folder / CONFIG, (json.dumps(spec.to_dict(), indent=2) + "\n").encode())
    atomic_write_bytes(folder / CARD, card.encode())
    return folder
