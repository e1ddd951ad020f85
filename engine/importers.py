"""Importers for the official checkpoints (``app-train import``).

The released ``.pth`` files are plain state dicts. They are read with
``torch.load(weights_only=True)``, so no pickled code can run, then the architecture
is inferred from the tensor shapes, checked key by key against our nets, and written
as a Tessera weights folder. The label convention of each dataset (which one-hot
channel is which label id) is recorded in config.json; see
``shared/fixtures/official/README.md`` for where the three codebases differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from engine.checkpoints import check_state_dict, save_weights
from engine.encoding import default_channel_ids
from engine.errors import WeightsError
from engine.labels import LabelSet
from engine.networks.oasis import OasisConfig, OasisDiscriminatorConfig, OasisGeneratorConfig
from engine.registry import ModelSpec

# dataset → (label set, the official training size (H, W))
OASIS_DATASETS: dict[str, tuple[str, tuple[int, int]]] = {
    "ade20k": ("ade20k", (256, 256)),
    "cityscapes": ("cityscapes", (256, 512)),
    "cocostuff": ("cocostuff", (256, 256)),
}


def read_official_pth(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad or hostile file
        raise WeightsError(
            f"cannot read this checkpoint safely ({type(exc).__name__}: {exc})",
            source=path,
            fix="download the file again; only plain state dicts are accepted",
        ) from exc
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError("not a state dict of tensors", source=path, fix="pass the official .pth")
    # Weights saved from a DataParallel wrapper carry a "module." prefix.
    return {k.removeprefix("module."): v.float() if v.is_floating_point() else v for k, v in obj.items()}


def _find(folder: Path, suffix: str) -> Path | None:
    for where in (folder / "models", folder):
        for stem in ("best", "latest"):
            p = where / f"{stem}_{suffix}.pth"
            if p.is_file():
                return p
    return None


def _shape(state: dict[str, torch.Tensor], key: str, source: Path) -> tuple[int, ...]:
    if key not in state:
        raise WeightsError(f"key {key!r} is missing", source=source, fix="pass an OASIS checkpoint")
    return tuple(state[key].shape)


def infer_oasis_generator(
    state: dict[str, torch.Tensor], semantic_nc: int, source: Path
) -> OasisGeneratorConfig:
    channels_g = _shape(state, "conv_img.weight", source)[1]
    fc = _shape(state, "fc.weight", source)
    shared = _shape(state, "body.0.norm_0.mlp_shared.0.weight", source)
    z_dim = fc[1] - semantic_nc
    if z_dim < 0 or fc[0] != 16 * channels_g:
        raise WeightsError(
            f"the head conv takes {fc[1]} input channels, fewer than the {semantic_nc} "
            "label channels of this dataset",
            source=source,
            fix="pick the --dataset this checkpoint was trained on",
        )
    return OasisGeneratorConfig(
        semantic_nc=semantic_nc,
        channels_g=channels_g,
        z_dim=z_dim,
        spade_hidden=shared[0],
        spade_kernel=shared[-1],
        spectral_norm="body.0.conv_0.weight_orig" in state,
    )


def infer_oasis_discriminator(
    state: dict[str, torch.Tensor], semantic_nc: int, source: Path
) -> OasisDiscriminatorConfig:
    n = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"body_down\.(\d+)\.", k)))
    widths = []
    for i in range(n):
        key = next((k for k in state if re.match(rf"body_down\.{i}\.conv1\.\d+\.weight(_orig)?$", k)), None)
        if key is None:
            raise WeightsError(f"body_down.{i}.conv1 is missing", source=source, fix="pass OASIS D")
        widths.append(state[key].shape[0])
    head = _shape(state, "layer_up_last.weight", source)
    if head[0] != semantic_nc + 1:
        raise WeightsError(
            f"the discriminator predicts {head[0] - 1} classes; this dataset has {semantic_nc}",
            source=source,
            fix="pick the --dataset this checkpoint was trained on",
        )
    return OasisDiscriminatorConfig(
        semantic_nc=semantic_nc,
        widths=tuple(widths),
        last_width=head[1],
        spectral_norm=any(k.endswith("weight_orig") for k in state),
    )


def import_oasis(
    checkpoint_dir: Path | str,
    dataset: str,
    out: Path | str,
    *,
    label_set: LabelSet | None = None,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Convert an official OASIS checkpoint folder into a Tessera weights folder.

    ``dataset`` is ade20k, cityscapes or cocostuff; for a model trained with the
    official code on another dataset pass ``label_set`` (dontcare first, as OASIS
    orders the one-hot) and ``image_size``.
    """
    folder = Path(checkpoint_dir)
    if label_set is None:
        if dataset not in OASIS_DATASETS:
            raise WeightsError(
                f"unknown dataset {dataset!r}",
                source="--dataset",
                fix=f"use one of {', '.join(OASIS_DATASETS)} or pass a label-set JSON file",
            )
        name, size = OASIS_DATASETS[dataset]
        label_set = LabelSet.builtin(name)
        image_size = image_size or size
    image_size = image_size or (256, 256)
    channel_ids = default_channel_ids(label_set.ids, label_set.dontcare)
    semantic_nc = len(channel_ids)

    ema_path, g_path, d_path = _find(folder, "EMA"), _find(folder, "G"), _find(folder, "D")
    if ema_path is None and g_path is None:
        raise WeightsError(
            "no best_EMA.pth / latest_EMA.pth / *_G.pth found (looked in models/ too)",
            source=folder,
            fix="pass the checkpoint folder, e.g. checkpoints/oasis_ade20k_pretrained",
        )
    g_source = ema_path or g_path
    assert g_source is not None
    g_state = read_official_pth(g_source)
    gen_cfg = infer_oasis_generator(g_state, semantic_nc, g_source)
    states = {"generator": g_state}
    files = [g_source.name]
    if ema_path is not None and g_path is not None:
        states["generator_live"] = read_official_pth(g_path)
        files.append(g_path.name)
    if d_path is not None:
        d_state = read_official_pth(d_path)
        disc_cfg = infer_oasis_discriminator(d_state, semantic_nc, d_path)
        states["discriminator"] = d_state
        files.append(d_path.name)
    else:
        disc_cfg = OasisDiscriminatorConfig(semantic_nc=semantic_nc)
    spec = ModelSpec(
        family="oasis",
        label_set=label_set,
        channel_ids=channel_ids,
        dontcare_channel=0 if label_set.dontcare is not None else None,
        image_size=image_size,
        arch=OasisConfig(gen_cfg, disc_cfg),
        training={"source": "official OASIS checkpoint", "dataset": dataset, "files": files},
    )
    for part, state in states.items():
        check_state_dict(spec.build(part), state, folder / files[list(states).index(part)])
    card = (
        f"# OASIS — imported official checkpoint ({dataset})\n\n"
        f"Converted by `app-train import oasis` from {', '.join(files)} in `{folder}`.\n"
        f"Label set: {label_set.name} ({semantic_nc} one-hot channels, channel i = label id "
        f"channel_ids[i] in config.json). Trained by the OASIS authors at "
        f"{image_size[0]}×{image_size[1]}.\n"
        "generator.safetensors is the EMA generator (what the official test.py uses)"
        + (", generator_live.safetensors the raw one" if "generator_live" in states else "")
        + (", discriminator.safetensors the segmenter/discriminator" if d_path else "")
        + ".\n"
    )
    return save_weights(out, spec, states, card)
