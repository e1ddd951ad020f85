"""How hard the benchmarks run, and which weights folders they measure.

Three modes: ``full`` (the numbers to publish), ``quick`` (fewer sizes and repeats) and
``smoke``: every case on tiny random networks (written to a scratch folder, never the
shipped weights), tiny sizes and one timed run. Smoke numbers mean nothing; the mode
exists so the test suite can run every case the way ``python -m benchmarks`` runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.paths import WEIGHTS

MODES = ("full", "quick", "smoke")
SMOKE_SIZE = (64, 64)  # the tiny networks' training size, and every smoke case's canvas

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    mode: str = "full"  # full | quick | smoke
    weights: tuple[Path, ...] = ()  # folders to measure instead of weights/* (--weights)
    scratch: Path | None = None  # smoke: where the tiny random weights folders are written

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    @property
    def smoke(self) -> bool:
        return self.mode == "smoke"

    def pick(self, full: T, quick: T, smoke: T) -> T:
        """The value for this mode, e.g. ``settings.pick(20, 5, 1)`` repeats."""
        return {"full": full, "quick": quick, "smoke": smoke}[self.mode]

    def folders(self, family: str) -> list[Path]:
        """The weights folders of ``family`` to measure: ``weights`` if given, else a tiny
        random model in smoke mode, else the shipped ones (weights/*)."""
        if self.weights:
            return [f for f in self.weights if family_of(f) == family]
        if self.smoke:
            if self.scratch is None:
                raise ValueError("smoke mode needs a scratch folder for its tiny weights")
            return [tiny_weights(family, self.scratch / f"tiny-{family}")]
        return [p.parent for p in sorted(WEIGHTS.glob("*/config.json")) if family_of(p.parent) == family]


def family_of(folder: Path) -> str:
    return json.loads((folder / "config.json").read_text())["family"]


def tiny_weights(family: str, folder: Path) -> Path:
    """A random-weights ``family`` model (its ``small`` config, landscapes labels, 64²) in
    ``folder``, written once; OASIS and MSCA, the families measured per weights folder."""
    if (folder / "config.json").is_file():
        return folder
    import torch

    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.blocks import init_official
    from engine.networks.msca import MscaModelConfig
    from engine.networks.oasis import OasisConfig
    from engine.registry import ModelSpec

    configs = {"oasis": OasisConfig.small, "msca": MscaModelConfig.small}
    if family not in configs:
        raise ValueError(f"no tiny {family} model: the benchmarks measure {', '.join(configs)} folders")
    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    dontcare = 0 if label_set.dontcare is not None else None
    command = "python -m benchmarks --smoke"
    arch = configs[family](len(ids))
    spec = ModelSpec(family, label_set, ids, dontcare, SMOKE_SIZE, arch, training={"command": command})
    torch.manual_seed(0)
    states = {}
    for part in ("generator", "discriminator"):
        net = spec.build(part)
        if family == "oasis":
            init_official(net)
        states[part] = net.state_dict()
    return save_weights(folder, spec, states, f"# tiny random {family} for the benchmarks' smoke run\n")
