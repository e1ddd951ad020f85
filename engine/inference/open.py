"""Open a weights folder for painting, whatever its family."""

from __future__ import annotations

from pathlib import Path

from engine.checkpoints import read_spec
from engine.errors import InputError
from engine.inference.inade_synth import InadeSynthesizer
from engine.inference.msca_synth import MscaSynthesizer
from engine.inference.resail_synth import ResailSynthesizer
from engine.inference.spade_synth import SpadeSynthesizer
from engine.inference.synthesizer import Synthesizer
from engine.inference.ugen_synth import UgenSynthesizer

SYNTHESIZERS = {
    "oasis": Synthesizer,
    "inade": InadeSynthesizer,
    "msca": MscaSynthesizer,
    "spade": SpadeSynthesizer,
    "resail": ResailSynthesizer,
    "ugen": UgenSynthesizer,
}


def open_synthesizer(
    folder: Path | str, *, device: str = "cpu", segmenter: bool = False, backend: str = "eager"
) -> Synthesizer | InadeSynthesizer | MscaSynthesizer | SpadeSynthesizer | UgenSynthesizer:
    """The synthesizer for ``folder``'s family (config.json decides)."""
    family = read_spec(folder).family
    if family not in SYNTHESIZERS:
        raise InputError(
            f"'{family}' weights cannot paint",
            source=str(folder),
            fix=f"pick a weights folder of one of: {', '.join(SYNTHESIZERS)}",
        )
    return SYNTHESIZERS[family].from_folder(folder, device=device, segmenter=segmenter, backend=backend)
