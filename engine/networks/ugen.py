"""ugen (Chae, Cho, Go, Choi, Uh, "Semantic Image Synthesis with Unconditional Generator",
NeurIPS 2023): what a ugen weights folder holds and how its parts find each other.

A ugen model is a frozen StyleGAN2 plus three small trained parts:

* ``proxy.safetensors`` — the global K-means centroids of the generator's features at the
  proxy resolution (:mod:`engine.networks.proxy`);
* ``rearranger.safetensors`` — :mod:`engine.networks.rearranger`;
* ``mapper_<condition>.safetensors`` — a semantic mapper per condition trained
  (:mod:`engine.networks.semantic_mapper`): ``labels`` (the OASIS-shaped ``LabelMapper``),
  ``edges``, ``sketch`` and ``depth`` (the StyleGAN2-D-shaped ``ConditionMapper``, one
  shape for the three: each reads one channel in [0, 1] — a line image, or a depth map
  with 0 = near and 1 = far, :mod:`engine.depth_image`).

The StyleGAN2 is not copied: ``config.json`` names its weights folder (``stylegan2``) as the
path was given to ``app-train fit`` (e.g. ``weights/landscapes-stylegan2``), relative so
that no machine path lands in a committed file. :func:`stylegan2_folder` resolves it. The
depth estimator whose depth of generated images trained the depth mapper is named the same
way (``depth_net``, :func:`depth_net_folder`): a photo's depth must come from it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from engine.errors import WeightsError
from engine.networks.proxy import ProxyClusters
from engine.networks.rearranger import Rearranger, RearrangerConfig
from engine.networks.semantic_mapper import (
    ConditionMapper,
    ConditionMapperConfig,
    LabelMapper,
    LabelMapperConfig,
)

CONDITIONS = ("labels", "edges", "sketch", "depth")
LINE_CONDITIONS = ("edges", "sketch")  # line drawings: 1 on a line, 0 elsewhere
IMAGE_CONDITIONS = (*LINE_CONDITIONS, "depth")  # one-channel images in [0, 1], the ConditionMapper's input
MAPPER_PARTS = tuple(f"mapper_{c}" for c in ("labels", *IMAGE_CONDITIONS))


@dataclass
class UgenConfig:
    stylegan2: str  # the frozen generator's weights folder, relative as given (see the module doc)
    image_resolution: int  # the generator's output side
    proxy_resolution: int  # where it splits into G₁ and G₂ (a quarter of the image side)
    feature_channels: int  # G₁'s channels there
    semantic_nc: int  # one-hot channels of the label set (the label mapper's input)
    num_clusters: int = 25  # K (supplement B.2)
    metric: str = "cosine"  # of the proxy clusters (engine.networks.proxy)
    rearranger: RearrangerConfig | None = None
    label_mapper: LabelMapperConfig | None = None  # present when a label mapper was trained
    condition_mapper: ConditionMapperConfig | None = None  # shared shape of the edge/sketch/depth mappers
    # Which extractor drew the edges mapper's training conditions ("hed" or "canny", see
    # engine.conditions): a photo's edges must be drawn by the same one at inference.
    edge_extractor: str = "canny"  # folders from before HED were all trained on Canny
    # The depth estimator's weights folder (relative as given, like stylegan2) whose depth of
    # generated images trained the depth mapper; None while the model has no depth mapper.
    depth_net: str | None = None

    def __post_init__(self) -> None:
        if self.rearranger is None:
            self.rearranger = RearrangerConfig(self.feature_channels, self.num_clusters)


def build_part(arch: UgenConfig, part: str) -> nn.Module:
    """One net of a ugen folder from its architecture."""
    if part == "proxy":
        return ProxyClusters(arch.num_clusters, arch.feature_channels, metric=arch.metric)
    if part == "rearranger":
        assert arch.rearranger is not None  # set in __post_init__
        return Rearranger(arch.rearranger)
    if part == "mapper_labels":
        if arch.label_mapper is None:
            raise ValueError("this ugen model has no label mapper")
        return LabelMapper(arch.label_mapper)
    if part in MAPPER_PARTS:
        if arch.condition_mapper is None:
            raise ValueError(f"this ugen model has no {part.removeprefix('mapper_')} mapper")
        return ConditionMapper(arch.condition_mapper)
    raise KeyError(part)


def has_part(arch: UgenConfig, part: str) -> bool:
    """Whether the architecture describes ``part`` (a model trained for labels has no edge mapper)."""
    if part == "mapper_labels":
        return arch.label_mapper is not None
    if part in MAPPER_PARTS:
        return arch.condition_mapper is not None
    return True


def _named_folder(folder: Path | str, reference: str) -> Path | None:
    """A weights folder a ugen folder names, or None. Tried in order: an absolute path as it
    is; a sibling of the ugen folder with the reference's last name (folders unpacked side by
    side, e.g. from the GPU kit); the reference from the working folder; from the repository
    root."""
    from engine.paths import REPO_ROOT

    path = Path(reference)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [Path(folder).parent / path.name, Path.cwd() / path, REPO_ROOT / path]
    return next((c for c in candidates if (c / "config.json").is_file()), None)


def stylegan2_folder(folder: Path | str, reference: str) -> Path:
    """The StyleGAN2 weights folder a ugen folder names (see :func:`_named_folder`)."""
    found = _named_folder(folder, reference)
    if found is not None:
        return found
    raise WeightsError(
        f"the StyleGAN2 weights this ugen model was trained on ({reference}) are not there",
        source=folder,
        fix=f"put that StyleGAN2 weights folder at {reference} (or beside this folder)",
    )


def depth_net_folder(folder: Path | str, arch: UgenConfig) -> Path:
    """The depth estimator a ugen folder's depth mapper was trained with (see :func:`_named_folder`)."""
    if arch.depth_net is None:
        raise WeightsError(
            "this ugen model has no depth mapper, so it names no depth estimator",
            source=folder,
            fix="train one into it: app-train fit --family ugen --condition depth --depth-net FOLDER "
            f"--init-from {folder} --rearranger-steps 0 …",
        )
    found = _named_folder(folder, arch.depth_net)
    if found is not None:
        return found
    raise WeightsError(
        f"the depth estimator its depth mapper was trained with ({arch.depth_net}) is not there",
        source=folder,
        fix=f"put that depth weights folder at {arch.depth_net} (or beside this folder)",
    )
