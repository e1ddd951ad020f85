"""``app-train import spade``: the released SPADE / GauGAN checkpoints as a weights folder.

The official ``latest_net_G.pth`` (and, for a ``use_vae`` model, ``latest_net_E.pth``)
are plain state dicts, read with ``torch.load(weights_only=True)``. The architecture is
read off the tensor shapes (width, input channels, VAE or not, ``most``), the rest —
the upsampling mode of a label-map generator, which no weight records — comes from the
dataset. Every key and shape is then checked against our nets. Spectral norm is kept as
stored (``weight_orig``/``u``/``v``), as the OASIS and INADE importers do; the
synthesizer folds it at load time, which is exact in eval mode.

Channel order per dataset (``shared/fixtures/official/README.md``): ADE20K has "other"
(id 0) in channel 0 — the official code means to move it last but never does; COCO-Stuff
has unknown (255) in the *last* channel, as SPADE's ``Pix2pixDataset`` maps 255 to
label_nc, which also holds for a custom dataset trained with the official code;
Cityscapes has no dontcare channel. Cityscapes and COCO-Stuff add an instance-edge channel.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from engine.checkpoints import check_state_dict, save_weights
from engine.errors import WeightsError
from engine.importers import read_official_pth
from engine.labels import LabelSet
from engine.networks.blocks import UPSAMPLING_STEPS
from engine.networks.spade import PAPER_DATASETS, SpadeConfig, SpadeEncoderConfig, SpadeGeneratorConfig
from engine.registry import ModelSpec

# dataset → our built-in label set; "cocostuff" is accepted as OASIS's name for "coco"
LABEL_SETS = {"ade20k": "ade20k", "cityscapes": "cityscapes", "coco": "cocostuff"}
ALIASES = {"cocostuff": "coco"}


def spade_channels(label_set: LabelSet, dataset: str) -> tuple[list[int], int | None]:
    """channel_ids and the dontcare channel of a SPADE model trained on ``dataset``."""
    rest = sorted(i for i in label_set.ids if i != label_set.dontcare)
    dontcare = label_set.dontcare
    if dontcare is None:
        return rest, None
    if dataset == "ade20k":  # fact 1: "other" stays in channel 0
        return [dontcare, *rest], 0
    return [*rest, dontcare], len(rest)  # Pix2pixDataset: unknown → label_nc, the last channel


def _find(folder: Path, net: str) -> Path | None:
    for stem in ("latest", "best"):
        p = folder / f"{stem}_net_{net}.pth"
        if p.is_file():
            return p
    return None


def _shape(state: dict[str, torch.Tensor], keys: tuple[str, ...], source: Path, what: str) -> tuple[int, ...]:
    for key in keys:
        if key in state:
            return tuple(state[key].shape)
    raise WeightsError(f"key {keys[0]!r} is missing", source=source, fix=f"pass the official SPADE {what}")


def infer_spade_generator(
    state: dict[str, torch.Tensor],
    semantic_nc: int,
    image_size: tuple[int, int],
    source: Path,
    *,
    num_upsampling: str = "normal",
    instance_edges: bool | None = None,
) -> SpadeGeneratorConfig:
    """Architecture of an official SPADE generator from its tensor shapes.

    ``num_upsampling`` is used where the weights cannot tell (a label-map ``fc`` has the
    same shape in ``normal`` and ``more``); a VAE ``fc`` fixes the latent grid, and up_4
    means ``most``. ``instance_edges`` None: read off the input width.
    """
    what = "latest_net_G.pth"
    head = _shape(state, ("head_0.conv_0.weight_orig", "head_0.conv_0.weight"), source, what)
    shared = _shape(state, ("head_0.norm_0.mlp_shared.0.weight",), source, what)
    fc = _shape(state, ("fc.weight",), source, what)
    ngf, cond_nc = head[0] // 16, shared[1]
    edges = cond_nc - semantic_nc
    if edges not in (0, 1) or (instance_edges is not None and edges != int(instance_edges)):
        wanted = semantic_nc + int(bool(instance_edges))
        expect = f"{wanted}" if instance_edges is not None else f"{semantic_nc} or {semantic_nc + 1}"
        raise WeightsError(
            f"the generator reads {cond_nc} input channels; this dataset has {expect} "
            f"({semantic_nc} classes{' + the instance-edge map' if instance_edges else ''})",
            source=source,
            fix="pick the --dataset this checkpoint was trained on",
        )
    use_vae = len(fc) == 2
    if any(k.startswith("up_4.") for k in state):
        modes = ["most"]
    elif use_vae:  # fc's size fixes the grid: try the other mode too
        modes = [num_upsampling, *(m for m in ("normal", "more") if m != num_upsampling)]
    else:  # a conv fc has the same shape in every mode: trust the dataset (or --upsampling)
        modes = [num_upsampling]
    h, w = image_size
    tried = []
    for mode in modes:
        s = 2 ** UPSAMPLING_STEPS[mode]
        grid = (h // s, w // s)
        if h % s or w % s:
            tried.append(f"`{mode}` needs sides that are multiples of {s}, the size is {h}×{w}")
        elif use_vae and fc[0] != 16 * ngf * grid[0] * grid[1]:
            tried.append(
                f"fc makes {fc[0] / (16 * ngf):g} latent cells, `{mode}` at {h}×{w} needs {grid[0] * grid[1]}"
            )
        else:
            return SpadeGeneratorConfig(
                semantic_nc=semantic_nc,
                instance_edges=bool(edges),
                ngf=ngf,
                num_upsampling=mode,
                latent_size=grid,
                use_vae=use_vae,
                z_dim=fc[1] if use_vae else 256,
                spectral_norm="head_0.conv_0.weight_orig" in state,
                param_free_norm="batch"
                if "head_0.norm_0.param_free_norm.running_mean" in state
                else "instance",
                spade_kernel=shared[-1],
                spade_hidden=shared[0],
            )
    raise WeightsError(
        "; ".join(tried),
        source=source,
        fix="pick the --dataset this checkpoint was trained on (or --size / --upsampling for a custom one)",
    )


def infer_spade_encoder(state: dict[str, torch.Tensor], source: Path) -> SpadeEncoderConfig:
    what = "latest_net_E.pth"
    first = _shape(state, ("layer1.0.weight_orig", "layer1.0.weight"), source, what)
    z_dim = _shape(state, ("fc_mu.weight",), source, what)[0]
    layers = len({m.group(1) for k in state if (m := re.match(r"layer(\d+)\.", k))})
    return SpadeEncoderConfig(
        ndf=first[0], z_dim=z_dim, layers=layers, spectral_norm="layer1.0.weight_orig" in state
    )


def import_spade(
    checkpoint_dir: Path | str,
    dataset: str,
    out: Path | str,
    *,
    label_set: LabelSet | None = None,
    image_size: tuple[int, int] | None = None,
    num_upsampling: str | None = None,
) -> Path:
    """Convert an official SPADE checkpoint folder into a Tessera weights folder.

    ``dataset`` is ade20k, cityscapes or coco (also "cocostuff"); for a model trained with
    the official code on another dataset pass ``label_set`` (unknown last, as SPADE's
    dataset code orders it), ``image_size`` and, for ``more``/``most``, ``num_upsampling``.
    """
    folder = Path(checkpoint_dir)
    dataset = ALIASES.get(dataset, dataset)
    edges: bool | None = None
    if dataset in PAPER_DATASETS:
        _, size, mode, edges = PAPER_DATASETS[dataset]
        label_set = label_set or LabelSet.builtin(LABEL_SETS[dataset])
        image_size = image_size or size
        num_upsampling = num_upsampling or mode
    elif label_set is None:
        raise WeightsError(
            f"unknown dataset {dataset!r}",
            source="--dataset",
            fix=f"use one of {', '.join(PAPER_DATASETS)} or pass a label-set JSON file",
        )
    image_size = image_size or (256, 256)
    channel_ids, dontcare_channel = spade_channels(label_set, dataset)

    g_path = _find(folder, "G")
    if g_path is None:
        raise WeightsError(
            "no latest_net_G.pth (or best_net_G.pth) found",
            source=folder,
            fix="pass the checkpoint folder, e.g. checkpoints/ade20k_pretrained",
        )
    g_state = read_official_pth(g_path)
    gen_cfg = infer_spade_generator(
        g_state,
        len(channel_ids),
        image_size,
        g_path,
        num_upsampling=num_upsampling or "normal",
        instance_edges=edges,
    )
    states, sources = {"generator": g_state}, {"generator": g_path}
    enc_cfg = None
    e_path = _find(folder, "E")
    if e_path is not None:
        if not gen_cfg.use_vae:
            raise WeightsError(
                f"an image encoder was found, but {g_path.name} starts from the label map (no use_vae)",
                source=e_path,
                fix="remove the encoder file, or use the generator trained with it",
            )
        e_state = read_official_pth(e_path)
        enc_cfg = infer_spade_encoder(e_state, e_path)
        if enc_cfg.z_dim != gen_cfg.z_dim:
            raise WeightsError(
                f"the encoder makes {enc_cfg.z_dim}-long codes; {g_path.name} takes {gen_cfg.z_dim}",
                source=e_path,
                fix="use the encoder saved with this generator",
            )
        states["encoder"], sources["encoder"] = e_state, e_path
    spec = ModelSpec(
        family="spade",
        label_set=label_set,
        channel_ids=channel_ids,
        dontcare_channel=dontcare_channel,
        image_size=gen_cfg.output_size,
        arch=SpadeConfig(gen_cfg, enc_cfg),
        training={
            "source": "official SPADE checkpoint",
            "dataset": dataset if dataset in PAPER_DATASETS else f"custom ({label_set.name})",
            "files": [p.name for p in sources.values()],
        },
    )
    for part, state in states.items():
        check_state_dict(spec.build(part), state, sources[part])
    return save_weights(out, spec, states, _card(spec, gen_cfg, sources))


def _card(spec: ModelSpec, g: SpadeGeneratorConfig, sources: dict[str, Path]) -> str:
    h, w = g.output_size
    dataset = spec.training["dataset"]
    arg = dataset if dataset in PAPER_DATASETS else "LABELS.json"
    dontcare = ""
    if spec.dontcare_channel is not None:
        where = "first" if spec.dontcare_channel == 0 else "last"
        dontcare = f" The dontcare class is the {where} channel."
    edges = " followed by the instance-edge map" if g.instance_edges else ""
    if not g.use_vae:
        style = "It starts from the label map, so it is deterministic: there is no noise to re-roll."
    elif "encoder" in sources:
        style = "It starts from a style code z: random, or read from a photo by encoder.safetensors."
    else:
        style = "It starts from a random style code z; no encoder file was found, so no style from photos."
    return (
        f"# SPADE — imported official checkpoint ({dataset})\n\n"
        f"Converted from {', '.join(p.name for p in sources.values())} by "
        f"`app-train import spade CHECKPOINT_DIR --dataset {arg} --out weights/NAME`.\n"
        f"Label set: {spec.label_set.name} ({len(spec.channel_ids)} one-hot channels{edges}; channel i "
        f"= label id channel_ids[i] in config.json).{dontcare} Trained by the SPADE authors at {h}×{w}, "
        f"`{g.num_upsampling}` upsampling. {style}\n"
        "Weights are stored as released (spectral norm unfolded, float32). No discriminator was released.\n"
    )
