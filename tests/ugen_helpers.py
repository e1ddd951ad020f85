"""A tiny random ugen model for tests: a 64² StyleGAN2 folder and, beside it, a ugen folder
that names it, with proxy centroids fitted on it (seconds) and random mappers (with a depth
mapper, also the random depth estimator it names)."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.checkpoints import save_weights
from engine.encoding import default_channel_ids
from engine.labels import LabelSet
from engine.networks.proxy import fit_proxy_clusters, measure_swatches
from engine.networks.rearranger import RearrangerConfig
from engine.networks.semantic_mapper import ConditionMapperConfig, LabelMapperConfig
from engine.networks.stylegan2 import StyleGan2Config
from engine.networks.ugen import UgenConfig
from engine.registry import ModelSpec
from tests.helpers import TINY_SET, write_tiny_depth_net

SIDE, PROXY, K = 64, 16, 6


def _perturb(net: torch.nn.Module, scale: float, gen: torch.Generator) -> None:
    """Random weights everywhere: the residual blocks' zero-initialised last convs would
    otherwise make the rearranger's blocks identities and hide their windows from the tests."""
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def write_tiny_ugen(
    root: Path, conditions: tuple[str, ...] = ("labels", "edges"), seed: int = 0, swatches: bool = True
) -> Path:
    """``root``/sg2 (StyleGAN2) and ``root``/ugen (its mappers: ``conditions``); returns the
    latter. ``swatches=False`` writes the proxy file as folders did before it stored them.
    With "depth" among the conditions, ``root``/depth is the depth estimator it names."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    label_set = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    sg_arch = StyleGan2Config.small(SIDE)
    sg_spec = ModelSpec("stylegan2", label_set, ids, 0, (SIDE, SIDE), sg_arch, training={"command": "tests"})
    g = sg_spec.build("generator").eval()
    with torch.no_grad():
        for module in g.modules():
            if hasattr(module, "noise_strength"):  # the constant noise images matter, as after training
                module.noise_strength.fill_(0.2)
    save_weights(root / "sg2", sg_spec, {"generator": g.state_dict()}, "# tiny random StyleGAN2\n")

    channels = sg_arch.generator.channels(PROXY)
    arch = UgenConfig(
        stylegan2="sg2",
        image_resolution=SIDE,
        proxy_resolution=PROXY,
        feature_channels=channels,
        semantic_nc=len(ids),
        num_clusters=K,
        rearranger=RearrangerConfig.small(channels, K),
        label_mapper=LabelMapperConfig.small(len(ids), K) if "labels" in conditions else None,
        condition_mapper=ConditionMapperConfig.small(K, SIDE, PROXY)
        if set(conditions) - {"labels"}
        else None,
        depth_net="depth" if "depth" in conditions else None,
    )
    if "depth" in conditions:
        write_tiny_depth_net(root / "depth", TINY_SET, seed=seed)
    spec = ModelSpec("ugen", label_set, ids, 0, (SIDE, SIDE), arch, training={"command": "tests"})
    clusters = fit_proxy_clusters(g, num_clusters=K, num_samples=8, resolution=PROXY, pixels_per_sample=64)
    if swatches:
        measure_swatches(g, clusters, PROXY)
    rearranger = spec.build("rearranger")
    _perturb(rearranger, 0.05, gen)
    proxy = clusters.state_dict()
    if not swatches:
        del proxy["swatches"]
    states = {"proxy": proxy, "rearranger": rearranger.state_dict()}
    for condition in conditions:
        states[f"mapper_{condition}"] = spec.build(f"mapper_{condition}").state_dict()
    return save_weights(root / "ugen", spec, states, "# tiny random ugen\n")
