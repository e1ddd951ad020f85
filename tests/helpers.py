"""Tiny datasets and label sets built on the fly for tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

TINY_SET = {
    "name": "tiny",
    "title": "Tiny test set",
    "dontcare": 0,
    "classes": [
        {"id": 0, "name": "unknown", "color": [0, 0, 0], "thing": False},
        {"id": 1, "name": "sky", "color": [110, 170, 240], "thing": False},
        {"id": 2, "name": "grass", "color": [60, 160, 60], "thing": False},
        {"id": 3, "name": "water", "color": [30, 80, 160], "thing": False},
        {"id": 4, "name": "tree", "color": [20, 90, 30], "thing": True},
    ],
}
COLOURS = {c["id"]: c["color"] for c in TINY_SET["classes"]}


def tiny_scene(seed: int, size: tuple[int, int] = (64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """A sky/grass/water scene with a tree or two, and a matching 'photo'."""
    rng = np.random.default_rng(seed)
    h, w = size
    labels = np.full((h, w), 1, np.uint16)
    horizon = int(rng.integers(h // 3, h // 2))
    labels[horizon:] = 2
    shore = int(rng.integers(horizon + 4, h - 8))
    labels[shore:, : int(rng.integers(w // 4, w))] = 3
    for _ in range(int(rng.integers(1, 3))):
        x, y = int(rng.integers(4, w - 8)), int(rng.integers(horizon - 10, horizon))
        labels[max(y, 0) : y + 10, x : x + 5] = 4
    labels[0, 0] = 0  # one dontcare pixel, as real datasets have
    image = np.zeros((h, w, 3), np.float32)
    for cid, col in COLOURS.items():
        image[labels == cid] = col
    image += rng.normal(0, 12, image.shape)
    return labels, image.clip(0, 255).astype(np.uint8)


def tiny_depth(labels: np.ndarray) -> np.ndarray:
    """A depth map for a ``tiny_scene``: sky 1, the ground a plane in perspective from the
    horizon (1) to the bottom row (near 0), as the landscapes renderer's; trees 0.9."""
    h = labels.shape[0]
    ground = labels[:, labels.shape[1] // 2] != 1
    horizon = int(np.argmax(ground)) if ground.any() else h
    t = np.clip((np.arange(h, dtype=np.float32) + 0.5 - horizon) / max(h - horizon, 1), 0, 1)
    depth = np.repeat((1 - t**0.8)[:, None], labels.shape[1], axis=1)
    depth[labels == 1] = 1.0
    depth[labels == 4] = 0.9
    return depth.astype(np.float32)


def make_folder_dataset(
    root: Path, count: int = 8, size: tuple[int, int] = (64, 64), *, depth: bool = False
) -> Path:
    """A tiny dataset of ``tiny_scene``s (train: ``count``, val: 2); with ``depth`` also
    their depth maps (``tiny_depth``) in depth/, as app-train data landscapes writes them."""
    from engine.depth_image import write_depth_png

    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(
        json.dumps({"format": "tessera-dataset", "version": 1, "label_set": TINY_SET})
    )
    for split, n in (("train", count), ("val", 2)):
        (root / split / "images").mkdir(parents=True, exist_ok=True)
        (root / split / "labels").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            labels, image = tiny_scene(i + (1000 if split == "val" else 0), size)
            Image.fromarray(image).save(root / split / "images" / f"s{i:03d}.png")
            Image.fromarray(labels.astype(np.uint8), mode="L").save(root / split / "labels" / f"s{i:03d}.png")
            if depth:
                (root / split / "depth").mkdir(exist_ok=True)
                write_depth_png(root / split / "depth" / f"s{i:03d}.png", tiny_depth(labels))
    return root


def write_fid_inception(path: Path, seed: int = 0) -> Path:
    """A stand-in for pytorch-fid's Inception file: same keys and shapes (fc included),
    random weights. Convolutions get He init and BatchNorm random running statistics, so
    features keep a useful scale through 94 layers and loading is visible in the output."""
    import torch

    from engine.metrics.inception import UNUSED_KEYS, FidInceptionV3

    gen = torch.Generator().manual_seed(seed)
    net = FidInceptionV3()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2 / fan_in) ** 0.5)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.uniform_(0.8, 1.25, generator=gen)
    state = net.state_dict()
    state.update({k: torch.randn(shape, generator=gen) * 0.01 for k, shape in UNUSED_KEYS.items()})
    torch.save(state, path)
    return path


def _tiny_spec(family: str, label_set_name: str, arch: Callable[[int], Any], command: str) -> Any:
    """A 64×64 ModelSpec of ``family`` on a built-in label set; ``arch`` maps the number of
    one-hot channels to the architecture config."""
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.registry import ModelSpec

    label_set = LabelSet.builtin(label_set_name)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    return ModelSpec(
        family=family,
        label_set=label_set,
        channel_ids=ids,
        dontcare_channel=0 if label_set.dontcare is not None else None,
        image_size=(64, 64),
        arch=arch(len(ids)),
        training={"steps": 0, "command": command},
    )


def _blocky_onehots(classes: int, seeds: int = 3) -> Iterator[tuple[Any, Any]]:
    """(generator, 2×classes×64×64 one-hot of random 8-px blocks) per seed: random
    layouts to estimate a tiny generator's BatchNorm statistics on."""
    import torch

    for s in range(seeds):
        gen = torch.Generator().manual_seed(s)
        channels = torch.randint(0, classes, (2, 8, 8), generator=gen)
        channels = channels.repeat_interleave(8, 1).repeat_interleave(8, 2)
        yield gen, torch.zeros(2, classes, 64, 64).scatter_(1, channels[:, None], 1.0)


def _cumulative_batchnorm(net: Any) -> None:
    """Running statistics become plain averages over the batches that follow."""
    import torch

    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None


def write_tiny_oasis(
    folder: Path, label_set_name: str = "landscapes", seed: int = 0, *, encoder: bool = False
) -> Path:
    """A random-weights OASIS weights folder (small config): G and D (and a style encoder
    with ``encoder``), ready for the studio."""
    import torch

    from engine.checkpoints import save_weights
    from engine.networks.blocks import init_official
    from engine.networks.oasis import OasisConfig, OasisStyleEncoderConfig

    spec = _tiny_spec("oasis", label_set_name, OasisConfig.small, "tests.helpers.write_tiny_oasis")
    if encoder:
        spec.arch.encoder = OasisStyleEncoderConfig(widths=(8, 16), input_size=32)
    torch.manual_seed(seed)
    states = {}
    for part in ("generator", "discriminator", *(("encoder",) if encoder else ())):
        net = spec.build(part)
        init_official(net)
        states[part] = net.state_dict()
    return save_weights(folder, spec, states, "# tiny random OASIS for tests\n")


def write_tiny_inade(folder: Path, label_set_name: str = "landscapes", seed: int = 0) -> Path:
    """A random-weights INADE weights folder (small config, 64²): G, E and D, ready for the studio.

    BatchNorm statistics are estimated on a few random layouts, so the image is not flat.
    """
    import torch

    from engine.checkpoints import save_weights
    from engine.networks.inade import InadeConfig, instance_onehot

    def arch(nc: int) -> InadeConfig:
        return InadeConfig.small(nc, ngf=4, size=(64, 64))

    spec = _tiny_spec("inade", label_set_name, arch, "tests.helpers.write_tiny_inade")
    classes = len(spec.channel_ids)
    torch.manual_seed(seed)
    g = spec.build("generator")
    _cumulative_batchnorm(g)
    cfg = spec.arch.generator
    with torch.no_grad():
        g.train()
        for gen, onehot in _blocky_onehots(classes):
            inst = instance_onehot(onehot.argmax(1), classes)
            g(
                onehot,
                inst,
                torch.randn(2, classes, 2, cfg.noise_nc, generator=gen),
                torch.randn(2, cfg.z_dim),
            )
    states = {"generator": g.state_dict()}
    for part in ("encoder", "discriminator"):
        states[part] = spec.build(part).state_dict()
    return save_weights(folder, spec, states, "# tiny random INADE for tests\n")


def write_tiny_msca(folder: Path, label_set_name: str = "landscapes", seed: int = 0) -> Path:
    """A random-weights MSCA weights folder (small config) with BatchNorm statistics estimated."""
    import torch

    from engine.checkpoints import save_weights
    from engine.networks.msca import MscaModelConfig

    spec = _tiny_spec("msca", label_set_name, MscaModelConfig.small, "tests.helpers.write_tiny_msca")
    torch.manual_seed(seed)
    g = spec.build("generator")
    _cumulative_batchnorm(g)
    with torch.no_grad():
        for gen, onehot in _blocky_onehots(len(spec.channel_ids)):
            g(onehot, torch.rand(2, 3, 64, 64, generator=gen) * 2 - 1, onehot.flip(-1))
    states = {"generator": g.eval().state_dict(), "discriminator": spec.build("discriminator").state_dict()}
    return save_weights(folder, spec, states, "# tiny random MSCA for tests\n")


def write_tiny_resail(folder: Path, seed: int = 0, *, with_database: bool = True) -> Path:
    """A random-weights RESAIL weights folder (small config, 96²) with a tiny landscapes
    segment database in ``retrieval/`` unless ``with_database`` is False."""
    import torch

    from engine.checkpoints import save_weights
    from engine.networks.resail import ResailConfig
    from engine.retrieval import WEIGHTS_SUBFOLDER, save_database
    from tests.engine.retrieval_helpers import tiny_landscapes_db

    spec = _tiny_spec("resail", "landscapes", ResailConfig.small, "tests.helpers.write_tiny_resail")
    spec.image_size = (96, 96)
    torch.manual_seed(seed)
    g = spec.build("generator")
    _cumulative_batchnorm(g)
    with torch.no_grad():
        for gen, onehot in _blocky_onehots(len(spec.channel_ids)):
            big = torch.nn.functional.interpolate(onehot, size=(96, 96))
            g(big, torch.rand(2, 3, 96, 96, generator=gen) * 2 - 1)
    folder = save_weights(folder, spec, {"generator": g.eval().state_dict()}, "# tiny random RESAIL\n")
    if with_database:
        save_database(tiny_landscapes_db(), folder / WEIGHTS_SUBFOLDER)
    return folder


def write_tiny_segmenter(folder: Path, label_set_name: str | dict = "landscapes", seed: int = 0) -> Path:
    """A random-weights segmenter weights folder (widths 4, 8): photos → label maps for tests.
    ``label_set_name``: a built-in set's name, or a label-set dict such as ``TINY_SET``."""
    import torch

    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.segmenter import SegmenterConfig
    from engine.registry import ModelSpec

    if isinstance(label_set_name, dict):
        label_set = LabelSet.from_dict(label_set_name)
    else:
        label_set = LabelSet.builtin(label_set_name)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    spec = ModelSpec("segmenter", label_set, ids, None, (64, 64), SegmenterConfig(len(ids), widths=(4, 8)))
    torch.manual_seed(seed)
    state = {"segmenter": spec.build("segmenter").state_dict()}
    return save_weights(folder, spec, state, "# tiny random segmenter\n")


def write_tiny_depth_net(folder: Path, label_set_name: str | dict = "landscapes", seed: int = 0) -> Path:
    """A random-weights depth estimator folder (U-Net widths 4, 8): images → depth for tests."""
    import torch

    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.depth import DepthNetConfig
    from engine.registry import ModelSpec

    if isinstance(label_set_name, dict):
        label_set = LabelSet.from_dict(label_set_name)
    else:
        label_set = LabelSet.builtin(label_set_name)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    spec = ModelSpec("depth", label_set, ids, None, (64, 64), DepthNetConfig(widths=(4, 8)))
    torch.manual_seed(seed)
    return save_weights(
        folder, spec, {"depth": spec.build("depth").state_dict()}, "# tiny random depth net\n"
    )


def write_random_vgg19(path: Path, seed: int = 0) -> Path:
    """A VGG-19 weights file in torchvision's layout with random values (fp16 to stay small;
    ~40 MB), plus a classifier key as real files have: stands in for vgg19-dcbb9e9d.pth."""
    import torch

    from engine.networks.vgg import Vgg19Features

    torch.manual_seed(seed)
    state = {k: v.half() for k, v in Vgg19Features().state_dict().items()}
    state["classifier.6.bias"] = torch.zeros(1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def write_tiny_spade(
    folder: Path, label_set_name: str = "landscapes", seed: int = 0, *, vae: bool = False
) -> Path:
    """A random-weights SPADE weights folder (64²) with BatchNorm statistics estimated, ready
    for the studio: without a VAE (deterministic, as the released models) or, with ``vae``,
    a z-driven generator and its image encoder (style from a photo)."""
    import torch

    from engine.checkpoints import save_weights
    from engine.networks.blocks import instance_edges
    from engine.networks.spade import SpadeConfig, SpadeEncoderConfig, SpadeGeneratorConfig

    def arch(nc: int) -> SpadeConfig:
        extra = {"use_vae": True, "z_dim": 8} if vae else {}
        g = SpadeGeneratorConfig.for_output(nc, 64, 64, ngf=2, spade_hidden=16, **extra)
        return SpadeConfig(g, SpadeEncoderConfig(ndf=2, z_dim=8, layers=4) if vae else None)

    spec = _tiny_spec("spade", label_set_name, arch, "tests.helpers.write_tiny_spade")
    torch.manual_seed(seed)
    g = spec.build("generator")
    _cumulative_batchnorm(g)
    with torch.no_grad():
        g.train()
        for gen, onehot in _blocky_onehots(len(spec.channel_ids)):
            cond = torch.cat((onehot, instance_edges(onehot.argmax(1))), dim=1)
            g(cond, torch.randn(onehot.shape[0], 8, generator=gen)) if vae else g(cond)
    states = {"generator": g.eval().state_dict()}
    if vae:
        states["encoder"] = spec.build("encoder").state_dict()
    return save_weights(folder, spec, states, "# tiny random SPADE for tests\n")


def settled_output(qtbot, window, timeout: int = 20000) -> np.ndarray:
    """The studio's image once every requested synthesis has landed (a copy)."""
    qtbot.waitUntil(lambda: window.settled and window.output is not None, timeout=timeout)
    return window.output.copy()


def read_ora(path: Path) -> list[tuple[str, str, np.ndarray]]:
    """An OpenRaster file's layers as stack.xml lists them, top first: (name, visibility,
    the layer's pixels as PIL opens them)."""
    import io
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as zf:
        stack = ET.fromstring(zf.read("stack.xml")).find("stack")
        assert stack is not None
        layers = []
        for layer in stack.findall("layer"):
            with Image.open(io.BytesIO(zf.read(layer.get("src", "")))) as im:
                layers.append((layer.get("name", ""), layer.get("visibility", ""), np.asarray(im).copy()))
    return layers
