"""Importers for the official checkpoints (``app-train import``).

The released ``.pth`` files (OASIS, INADE) are plain state dicts. They are read with
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
from engine.networks.inade import (
    PAPER_DATASETS,
    InadeConfig,
    InadeDiscriminatorConfig,
    InadeEncoderConfig,
    InadeGeneratorConfig,
)
from engine.networks.oasis import OasisConfig, OasisDiscriminatorConfig, OasisGeneratorConfig
from engine.registry import ModelSpec
from engine.state_files import read_state_dict

# dataset → (label set, the official training size (H, W))
OASIS_DATASETS: dict[str, tuple[str, tuple[int, int]]] = {
    "ade20k": ("ade20k", (256, 256)),
    "cityscapes": ("cityscapes", (256, 512)),
    "cocostuff": ("cocostuff", (256, 256)),
}


def read_official_pth(path: Path) -> dict[str, torch.Tensor]:
    """An official checkpoint's tensors (read without unpickling code), floats as float32."""
    state = read_state_dict(path, "official checkpoint", "download the file again")
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


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


# ---------------------------------------------------------------------- INADE
# dataset → our built-in label set (None: none ships yet, a label-set JSON is needed)
INADE_LABEL_SETS: dict[str, str | None] = {
    "ade20k": "ade20k",
    "cityscapes": "cityscapes",
    "celeba": None,
    "deepfashion": None,
}


def _find_inade(folder: Path, names: tuple[str, ...]) -> Path | None:
    for stem in ("best", "latest"):
        for name in names:
            p = folder / f"{stem}_net_{name}.pth"
            if p.is_file():
                return p
    return None


def _inade_shape(state: dict[str, torch.Tensor], key: str, source: Path, what: str) -> tuple[int, ...]:
    if key not in state:
        raise WeightsError(f"key {key!r} is missing", source=source, fix=f"pass the official INADE {what}")
    return tuple(state[key].shape)


def infer_inade_generator(
    state: dict[str, torch.Tensor],
    semantic_nc: int,
    image_size: tuple[int, int],
    source: Path,
    prefer: str = "normal",
) -> InadeGeneratorConfig:
    """Architecture of an official INADE generator from its tensor shapes.

    ngf, z_dim, noise_nc and the class count are read off the shapes; ``fc``'s size
    fixes the latent grid, which with the training size tells ``normal`` from ``more``.
    """
    ngf = _inade_shape(state, "conv_img.weight", source, "best_net_G.pth")[1]
    fc = _inade_shape(state, "fc.weight", source, "best_net_G.pth")
    norm = _inade_shape(state, "head_0.norm_0.weight", source, "best_net_G.pth")
    noise_nc = _inade_shape(state, "head_0.norm_0.fc_noise.weight", source, "best_net_G.pth")[1]
    if norm[0] != semantic_nc:
        raise WeightsError(
            f"the generator was trained on {norm[0]} classes; this dataset has {semantic_nc}",
            source=source,
            fix="pick the --dataset this checkpoint was trained on",
        )
    cells, rest = divmod(fc[0], 16 * ngf)
    h, w = image_size
    tried = []
    for mode in (prefer, *(m for m in ("normal", "more") if m != prefer)):
        s = 32 if mode == "normal" else 64
        if h % s == 0 and w % s == 0 and rest == 0 and (h // s) * (w // s) == cells:
            return InadeGeneratorConfig(
                semantic_nc=semantic_nc,
                ngf=ngf,
                z_dim=fc[1],
                noise_nc=noise_nc,
                latent_size=(h // s, w // s),
                num_upsampling=mode,
                spectral_norm="head_0.conv_0.weight_orig" in state,
            )
        tried.append(f"{(h // s) * (w // s)} ({mode})")
    raise WeightsError(
        f"fc makes a latent grid of {fc[0] / (16 * ngf):g} cells; a {h}×{w} output needs "
        + " or ".join(tried),
        source=source,
        fix="pick the --dataset this checkpoint was trained on (or --size for a custom dataset)",
    )


def infer_inade_encoder(state: dict[str, torch.Tensor], source: Path) -> InadeEncoderConfig:
    ngf = _inade_shape(state, "layer1.weight", source, "best_net_IE.pth")[0]
    noise_nc = _inade_shape(state, "scale_conv_mu.weight", source, "best_net_IE.pth")[0]
    return InadeEncoderConfig(ngf=ngf, noise_nc=noise_nc)


def import_inade(
    checkpoint_dir: Path | str,
    dataset: str,
    out: Path | str,
    *,
    label_set: LabelSet | None = None,
    image_size: tuple[int, int] | None = None,
) -> Path:
    """Convert an official INADE checkpoint folder into a Tessera weights folder.

    Reads ``best_net_G.pth`` and the encoder, ``best_net_E.pth`` or the released name
    ``best_net_IE.pth`` (``latest_`` files as a fallback; the encoder is optional).
    ``dataset`` is ade20k, cityscapes, celeba or deepfashion; the last two have no
    built-in label set, so pass ``label_set`` (its channel order: dontcare first, then
    ids ascending, must be the one the model was trained with). For a model trained on
    another dataset pass ``label_set`` and ``image_size``. Weights are kept as stored
    (spectral norm unfolded, float32).
    """
    folder = Path(checkpoint_dir)
    prefer = "normal"
    if dataset in PAPER_DATASETS:
        _, size, prefer, _ = PAPER_DATASETS[dataset]
        image_size = image_size or size
        builtin = INADE_LABEL_SETS[dataset]
        if label_set is None:
            if builtin is None:
                raise WeightsError(
                    f"Tessera has no built-in label set for {dataset} yet",
                    source="--dataset",
                    fix=f"pass the {dataset} classes as a label-set JSON file with --labels",
                )
            label_set = LabelSet.builtin(builtin)
    elif label_set is None:
        raise WeightsError(
            f"unknown dataset {dataset!r}",
            source="--dataset",
            fix=f"use one of {', '.join(PAPER_DATASETS)} or pass a label-set JSON file",
        )
    image_size = image_size or (256, 256)
    channel_ids = default_channel_ids(label_set.ids, label_set.dontcare)
    semantic_nc = len(channel_ids)

    g_path = _find_inade(folder, ("G",))
    if g_path is None:
        raise WeightsError(
            "no best_net_G.pth (or latest_net_G.pth) found",
            source=folder,
            fix="pass the checkpoint folder, e.g. checkpoints/inade_ade20k",
        )
    g_state = read_official_pth(g_path)
    gen_cfg = infer_inade_generator(g_state, semantic_nc, image_size, g_path, prefer)
    states = {"generator": g_state}
    sources = {"generator": g_path}
    e_path = _find_inade(folder, ("E", "IE"))
    if e_path is not None:
        e_state = read_official_pth(e_path)
        enc_cfg = infer_inade_encoder(e_state, e_path)
        if enc_cfg.noise_nc != gen_cfg.noise_nc:
            raise WeightsError(
                f"the encoder predicts {enc_cfg.noise_nc}-long noise; {g_path.name} takes {gen_cfg.noise_nc}",
                source=e_path,
                fix="use the encoder released with this generator",
            )
        states["encoder"] = e_state
        sources["encoder"] = e_path
    else:
        enc_cfg = InadeEncoderConfig(ngf=gen_cfg.ngf, noise_nc=gen_cfg.noise_nc)
    spec = ModelSpec(
        family="inade",
        label_set=label_set,
        channel_ids=channel_ids,
        dontcare_channel=0 if label_set.dontcare is not None else None,
        image_size=gen_cfg.output_size,
        arch=InadeConfig(gen_cfg, enc_cfg, InadeDiscriminatorConfig(semantic_nc=semantic_nc)),
        training={
            "source": "official INADE checkpoint",
            "dataset": dataset,
            "files": [p.name for p in sources.values()],
        },
    )
    for part, state in states.items():
        check_state_dict(spec.build(part), state, sources[part])
    h, w = gen_cfg.output_size
    card = (
        f"# INADE — imported official checkpoint ({dataset})\n\n"
        f"Converted by `app-train import inade` from {', '.join(p.name for p in sources.values())} "
        f"in `{folder}`.\n"
        f"Label set: {label_set.name} ({semantic_nc} one-hot channels, channel i = label id "
        f"channel_ids[i] in config.json; the official instance-edge channel is not an input: "
        f"the generator never reads it). Trained by the INADE authors at {h}×{w}, "
        f"`{gen_cfg.num_upsampling}` upsampling, per-instance noise of length {gen_cfg.noise_nc}.\n"
        "generator.safetensors is the generator"
        + (
            ", encoder.safetensors the instance encoder (style from a reference image)"
            if "encoder" in states
            else "; no encoder file was found, so styles cannot be taken from a reference image"
        )
        + ". No discriminator was released.\n"
    )
    return save_weights(out, spec, states, card)
