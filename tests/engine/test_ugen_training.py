"""ugen's training steps on tiny configurations: the rearranger (engine/train/ugen_step.py),
the semantic mappers (engine/networks/semantic_mapper.py) and their step
(engine/train/ugen_mapper_step.py)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.networks.proxy import ProxyClusters, fit_proxy_clusters
from engine.networks.rearranger import Rearranger, RearrangerConfig
from engine.networks.semantic_mapper import (
    ConditionMapper,
    ConditionMapperConfig,
    LabelMapper,
    LabelMapperConfig,
)
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Discriminator, StyleGan2Generator
from engine.train.ugen_mapper_step import MapperLosses, MapperTraining
from engine.train.ugen_step import RearrangerLosses, RearrangerTraining

K, R = 6, 8  # clusters; proxy resolution of the 32² generator


def _generator() -> tuple[StyleGan2Generator, StyleGan2Discriminator, ProxyClusters]:
    torch.manual_seed(0)
    config = StyleGan2Config.small(32)
    g = StyleGan2Generator(config.generator).eval()
    clusters = fit_proxy_clusters(g, num_clusters=K, num_samples=16, resolution=R, pixels_per_sample=None)
    return g, StyleGan2Discriminator(config.discriminator), clusters


def _rearranger_training(adversarial: bool = True, **losses: float) -> RearrangerTraining:
    g, d, clusters = _generator()
    torch.manual_seed(1)
    rearranger = Rearranger(RearrangerConfig.small(g.config.channels(R), K))
    return RearrangerTraining(
        g, clusters, rearranger, d if adversarial else None, resolution=R, losses=RearrangerLosses(**losses)
    )


def test_rearranger_losses_are_finite_and_follow_the_schedule() -> None:
    t = _rearranger_training(phase1_steps=6)
    frozen = {k: v.clone() for k, v in t.g.state_dict().items()}
    seen = {}
    for step in range(8):
        seen[step] = t.step(step, batch_size=2)
        assert all(math.isfinite(v) for v in seen[step].values())
    # Same-noise (even) steps have L_self, random-noise (odd) steps do not.
    assert all(seen[s]["loss_self"] > 0 for s in (0, 2, 4, 6))
    assert all(seen[s]["loss_self"] == 0 for s in (1, 3, 5, 7))
    assert all(seen[s]["loss_mask"] > 0 for s in seen)
    # L_adv and the D step: every 5th step in the first phase (0 and 5), then every step.
    adversarial = [s for s in seen if "loss_d_real" in seen[s]]
    assert adversarial == [0, 5, 6, 7]
    assert all(seen[s]["loss_adv"] > 0 for s in adversarial)
    assert seen[0]["loss_r1"] > 0  # lazy R1 on the first D step
    # The generator stays frozen.
    for key, value in t.g.state_dict().items():
        assert torch.equal(value, frozen[key]), key


def test_same_noise_targets_are_the_source_or_its_mirror_image() -> None:
    t = _rearranger_training(adversarial=False, flip_probability=1.0)
    gen = torch.Generator().manual_seed(0)
    feats, skip = t._head(t._ws(torch.randn(2, t.g.config.z_dim, generator=gen)))
    mask, target_f, target_i = t._targets(0, feats, skip, None, gen)
    assert target_f is not None and target_i is not None
    assert torch.equal(target_f, feats.flip(-1)) and torch.equal(target_i, skip.flip(-1))
    assert torch.equal(mask, t.clusters.proxy_mask(feats).flip(-1))
    t.losses.flip_probability = 0.0
    mask, target_f, _ = t._targets(2, feats, skip, None, gen)
    assert torch.equal(target_f, feats) and torch.equal(mask, t.clusters.proxy_mask(feats))
    # Random-noise steps: another sample's mask, and nothing to reconstruct.
    mask, target_f, target_i = t._targets(1, feats, skip, None, gen)
    assert target_f is None and target_i is None and not torch.equal(mask, t.clusters.proxy_mask(feats))


def test_l_self_and_l_mask_fall_on_a_tiny_overfit() -> None:
    t = _rearranger_training()
    z, z_target = torch.randn(4, t.g.config.z_dim), torch.randn(4, t.g.config.z_dim)
    history = [t.step(step, z=z, z_target=z_target) for step in range(40)]
    self_losses = [h["loss_self"] for h in history[::2]]
    mask_losses = [h["loss_mask"] for h in history]
    assert sum(self_losses[-3:]) < 0.85 * sum(self_losses[:3])
    assert sum(mask_losses[-4:]) < 0.9 * sum(mask_losses[:4])
    images = t.rearrange(z[:2], t.clusters.proxy_mask(t._head(t._ws(z_target[:2]))[0]))
    assert images.shape == (2, 3, 32, 32) and torch.isfinite(images).all()


def test_rearranger_training_state_round_trips() -> None:
    a = _rearranger_training()
    for step in range(3):
        a.step(step, batch_size=2)
    b = _rearranger_training()
    b.load_state_dict(a.state_dict())
    la, lb = a.step(3, batch_size=2), b.step(3, batch_size=2)
    assert la == pytest.approx(lb, rel=1e-5)


# ---- semantic mappers ------------------------------------------------------------------
def _labels(b: int = 4, n: int = 5, side: int = 32, seed: int = 0) -> torch.Tensor:
    """Blocky label maps (4×4-pixel cells), so the proxy-resolution target is well defined."""
    gen = torch.Generator().manual_seed(seed)
    cells = torch.randint(0, n, (b, side // 4, side // 4), generator=gen)
    return cells.repeat_interleave(4, 1).repeat_interleave(4, 2)


def _onehot(labels: torch.Tensor, n: int = 5) -> torch.Tensor:
    return F.one_hot(labels, n).permute(0, 3, 1, 2).float()


def _target(labels: torch.Tensor) -> torch.Tensor:
    """A made-up proxy mask that depends on the labels (label k → cluster k)."""
    return labels[:, ::4, ::4].clamp_max(K - 1)


def test_label_mapper_shapes() -> None:
    mapper = LabelMapper(LabelMapperConfig.small(5, K))
    out = mapper(_onehot(_labels()), (8, 8))
    assert out.shape == (4, K, 8, 8)
    assert mapper(_onehot(_labels(side=64)), (16, 8)).shape == (4, K, 16, 8)  # any input size
    with pytest.raises(ValueError, match="multiple of 4"):
        mapper(_onehot(_labels()), (6, 6))
    # The paper-sized mapper builds its 64² output from a 2² grid.
    assert LabelMapperConfig(semantic_nc=10).size_multiple == 32


def test_condition_mapper_shapes_and_its_unet_reaches_the_output() -> None:
    config = ConditionMapperConfig.small(K, input_resolution=32, output_resolution=8)
    mapper = ConditionMapper(config)
    edges = torch.rand(2, 1, 32, 32)
    out = mapper(edges)
    assert out.shape == (2, K, 8, 8)
    assert mapper(torch.rand(2, 1, 32, 64)).shape == (2, K, 8, 16)
    # A change in one corner of the condition changes the output there more than far away:
    # the skip connections carry position, not only the bottleneck's summary.
    edges2 = edges.clone()
    edges2[:, :, :8, :8] += 1
    diff = (mapper(edges2) - out).abs().mean(dim=(0, 1))
    assert diff[:2, :2].mean() > 3 * diff[-2:, -2:].mean()
    with pytest.raises(ValueError, match="divisible"):
        mapper(torch.rand(1, 1, 30, 30))
    with pytest.raises(ValueError, match="power of two"):
        ConditionMapperConfig(output_resolution=48)


def test_label_mapper_recon_loss_falls_then_the_adversarial_phase_runs() -> None:
    g, d, _ = _generator()
    torch.manual_seed(2)
    rearranger = Rearranger(RearrangerConfig.small(g.config.channels(R), K))
    t = MapperTraining(
        LabelMapper(LabelMapperConfig.small(5, K)),
        resolution=R,
        generator=g,
        rearranger=rearranger,
        discriminator=d,
        losses=MapperLosses(recon_steps=25),
    )
    labels = _labels()
    history = [t.step(step, _onehot(labels), _target(labels)) for step in range(30)]
    recon = [h["loss_recon"] for h in history]
    assert sum(recon[22:25]) < 0.6 * sum(recon[:3])
    assert all(h["loss_adv"] == 0 and "loss_d_real" not in h for h in history[:25])
    assert all(h["loss_adv"] > 0 and math.isfinite(h["loss_d_fake"]) for h in history[25:])
    assert (t.proxy_mask(_onehot(labels)) == _target(labels)).float().mean() > 0.5


def test_condition_mapper_recon_loss_falls_on_a_tiny_overfit() -> None:
    torch.manual_seed(3)
    # lr 0.01: the equalised-lr layers move slowly at 0.002, and the test must stay short.
    t = MapperTraining(
        ConditionMapper(ConditionMapperConfig.small(K)), resolution=R, losses=MapperLosses(lr=0.01)
    )
    labels = _labels()
    # A depth-like condition: one channel whose level says the cell's part.
    depth = labels[:, None].float() / 4
    history = [t.step(step, depth, _target(labels))["loss_recon"] for step in range(60)]
    assert all(math.isfinite(v) for v in history)
    assert sum(history[-3:]) < 0.4 * sum(history[:3])
