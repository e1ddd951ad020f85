"""StyleGAN2 networks (engine/networks/stylegan2*.py) and its losses, on tiny configurations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.errors import InputError
from engine.labels import LabelSet
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Discriminator, StyleGan2Generator
from engine.networks.stylegan2_layers import EqualConv2d, EqualLinear, minibatch_stddev, modulated_conv2d
from engine.registry import ModelSpec
from engine.train.gan_losses import logistic_d, logistic_g, r1_penalty
from engine.train.options import FitOptions


def _nets(resolution: int = 32, seed: int = 0) -> tuple[StyleGan2Generator, StyleGan2Discriminator]:
    torch.manual_seed(seed)
    config = StyleGan2Config.small(resolution)
    return StyleGan2Generator(config.generator).eval(), StyleGan2Discriminator(config.discriminator)


def _strong_noise(g: StyleGan2Generator) -> None:
    """Noise strengths start at 0 (no noise); make them matter for the noise tests."""
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(1.0)


@pytest.mark.parametrize("resolution", [8, 32, 64])
def test_shapes_at_small_configs(resolution: int) -> None:
    g, d = _nets(resolution)
    c = g.config
    assert c.num_ws == 2 * int(math.log2(resolution)) - 2
    z = torch.randn(3, c.z_dim)
    ws = g.mapping(z)
    assert ws.shape == (3, c.num_ws, c.w_dim)
    image = g(z)
    assert image.shape == (3, 3, resolution, resolution) and torch.isfinite(image).all()
    assert d(image).shape == (3,)
    feats = g.features(ws, resolution=8)
    assert feats.shape == (3, c.channels(8), 8, 8)


def test_paper_config_is_config_f() -> None:
    config = StyleGan2Config.paper(256)
    g = config.generator
    assert (g.z_dim, g.w_dim, g.mapping_layers, g.mapping_lr_mul) == (512, 512, 8, 0.01)
    assert [g.channels(r) for r in g.resolutions] == [512, 512, 512, 512, 512, 256, 128]
    with torch.device("meta"):  # counted without allocating
        n_g = sum(p.numel() for p in StyleGan2Generator(g).parameters())
        n_d = sum(p.numel() for p in StyleGan2Discriminator(config.discriminator).parameters())
    assert 29e6 < n_g < 31e6 and 28e6 < n_d < 30e6  # the paper's 256² config F: ≈ 30 M and 29 M
    with pytest.raises(ValueError, match="power of two"):
        StyleGan2Config.paper(96)


def test_head_then_tail_is_the_whole_synthesis() -> None:
    g, _ = _nets(64)
    ws = g.mapping(torch.randn(2, g.config.z_dim))
    x, img = g.head(ws, resolution=32, noise_mode="const")
    assert x.shape[-1] == 32 and img.shape == (2, 3, 32, 32)
    assert torch.allclose(g.tail(ws, x, img, 32, noise_mode="const"), g.synthesis(ws, "const"), atol=1e-6)
    with pytest.raises(ValueError, match="no synthesis block"):
        g.features(ws, resolution=48)


def test_demodulation_makes_the_output_scale_independent_of_the_style_scale() -> None:
    torch.manual_seed(0)
    x, weight, styles = torch.randn(2, 4, 6, 6), torch.randn(5, 4, 3, 3), torch.rand(2, 4) + 0.5
    demod = modulated_conv2d(x, weight, styles, demodulate=True)
    assert torch.allclose(modulated_conv2d(x, weight, styles * 7.0, demodulate=True), demod, atol=1e-5)
    # Without demodulation the style scale goes straight through (so the check above can fail).
    plain = modulated_conv2d(x, weight, styles, demodulate=False)
    assert torch.allclose(modulated_conv2d(x, weight, styles * 7.0, demodulate=False), 7.0 * plain, atol=1e-4)
    # The batched grouped convolution equals one ordinary convolution per sample.
    for i in range(2):
        kernel = weight * styles[i][None, :, None, None]
        kernel = kernel / kernel.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        assert torch.allclose(demod[i : i + 1], F.conv2d(x[i : i + 1], kernel, padding=1), atol=1e-5)


def test_equalised_learning_rate_scales() -> None:
    torch.manual_seed(0)
    fc = EqualLinear(256, 64, lr_mul=0.01)
    # Stored as N(0, 1/lr_mul²); used as stored × lr_mul/√fan_in: He scale 1/√256 = 1/16.
    assert fc.weight.std().item() == pytest.approx(100.0, rel=0.05)
    assert (fc.weight * fc.weight_gain).std().item() == pytest.approx(1 / 16, rel=0.05)
    x = torch.randn(8, 256)
    effective = (fc.weight * fc.weight_gain).detach().requires_grad_(True)
    F.linear(x, effective, fc.bias * fc.bias_gain).square().sum().backward()
    fc(x).square().sum().backward()
    # The stored weight's gradient is the effective one's × lr_mul/√fan_in.
    assert torch.allclose(fc.weight.grad, effective.grad * 0.01 / 16, rtol=1e-4, atol=1e-9)
    conv = EqualConv2d(8, 4, 3)
    assert conv.weight_gain == pytest.approx(1 / math.sqrt(8 * 9))
    assert (conv.weight * conv.weight_gain).std().item() == pytest.approx(1 / math.sqrt(72), rel=0.2)


def test_noise_modes() -> None:
    g, _ = _nets(32)
    _strong_noise(g)
    z = torch.randn(2, g.config.z_dim)
    with torch.no_grad():
        const = g(z, noise_mode="const")
        assert torch.equal(g(z, noise_mode="const"), const)
        first, second = g(z, noise_mode="random"), g(z, noise_mode="random")
        assert not torch.allclose(first, second)
        assert not torch.allclose(g(z, noise_mode="none"), const)
        seeded = [g(z, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
        assert torch.equal(*seeded)
    with pytest.raises(ValueError, match="noise_mode"):
        g(z, noise_mode="loud")


def test_truncation_psi_zero_gives_the_w_avg_image_for_every_z() -> None:
    g, _ = _nets(32)
    with torch.no_grad():
        g.mapping.w_avg.copy_(torch.randn(g.config.w_dim))
        images = g(torch.randn(4, g.config.z_dim), truncation_psi=0.0, noise_mode="const")
        avg_ws = g.mapping.w_avg[None, None].repeat(1, g.config.num_ws, 1)
        expected = g.synthesis(avg_ws, "const")
        assert torch.allclose(images, expected.expand_as(images), atol=1e-5)
        half = g(torch.randn(4, g.config.z_dim), truncation_psi=0.5, noise_mode="const")
        assert not torch.allclose(half[0], half[1])


def test_w_avg_is_tracked_in_training_and_estimated_on_demand() -> None:
    g, _ = _nets(32)
    z = torch.randn(16, g.config.z_dim)
    w_mean = g.mapping(z)[:, 0].mean(dim=0).detach()
    g.mapping(z, track_w_avg=True)
    assert torch.allclose(g.mapping.w_avg, 0.005 * w_mean, atol=1e-6)  # from 0 towards the mean by 1 − 0.995
    g.estimate_w_avg(num_samples=2000, seed=1)
    sample = g.mapping(torch.randn(2000, g.config.z_dim, generator=torch.Generator().manual_seed(1)))
    assert torch.allclose(g.mapping.w_avg, sample[:, 0].mean(dim=0), atol=1e-5)
    assert "mapping.w_avg" in g.state_dict()


def test_style_mixing_takes_the_later_ws_from_the_second_z() -> None:
    g, _ = _nets(32)
    z1, z2 = torch.randn(1, g.config.z_dim), torch.randn(1, g.config.z_dim)
    with torch.no_grad():
        mixed = g(z1, mix_z=z2, mix_cutoff=3, noise_mode="const")
        ws = torch.cat((g.mapping(z1)[:, :3], g.mapping(z2)[:, 3:]), dim=1)
        assert torch.allclose(mixed, g.synthesis(ws, "const"), atol=1e-6)
        assert not torch.allclose(mixed, g(z1, noise_mode="const"))


def test_minibatch_stddev_appends_the_group_spread() -> None:
    x = torch.zeros(4, 2, 3, 3)
    x[1], x[3] = 2.0, 2.0  # groups of 4 take samples 0, 1, 2, 3: values 0, 2, 0, 2 → std 1
    out = minibatch_stddev(x, group_size=4, num_channels=1)
    assert out.shape == (4, 3, 3, 3)
    assert torch.allclose(out[:, 2], torch.ones(4, 3, 3), atol=1e-3)
    assert minibatch_stddev(torch.randn(6, 2, 3, 3), 4, 1).shape == (6, 3, 3, 3)  # groups of 3


def test_r1_penalty_on_hand_made_discriminators() -> None:
    a = torch.tensor([[[[1.0, -2.0], [0.5, 3.0]]]], requires_grad=True)  # D(x) = Σ a·x
    real = torch.randn(3, 1, 2, 2).requires_grad_(True)
    penalty = r1_penalty((real * a).flatten(1).sum(dim=1), real)
    assert penalty.item() == pytest.approx(1 + 4 + 0.25 + 9)  # ‖∇ₓD‖² = ‖a‖² for every sample
    penalty.backward()  # differentiable in D's parameters: ∂‖a‖²/∂a = 2a
    assert torch.allclose(a.grad, 2 * a.detach())
    real = torch.tensor([[1.0, 2.0], [0.0, 3.0]]).requires_grad_(True)  # D(x) = Σ x²: ∇ = 2x
    assert r1_penalty(real.square().sum(dim=1), real).item() == pytest.approx((4 * 5 + 4 * 9) / 2)


def test_logistic_losses() -> None:
    zero = torch.zeros(4)
    real, fake = logistic_d(zero, zero)
    assert real.item() == pytest.approx(math.log(2)) and fake.item() == pytest.approx(math.log(2))
    assert logistic_g(torch.full((2,), 5.0)).item() == pytest.approx(math.log1p(math.exp(-5.0)))
    assert logistic_d(torch.full((2,), 5.0), torch.full((2,), -5.0))[0].item() < 0.01


def test_config_round_trips_through_the_registry() -> None:
    spec = ModelSpec(
        family="stylegan2",
        label_set=LabelSet.builtin("landscapes"),
        channel_ids=list(LabelSet.builtin("landscapes").ids),
        dontcare_channel=None,
        image_size=(64, 64),
        arch=StyleGan2Config.small(64),
    )
    again = ModelSpec.from_dict(spec.to_dict())
    assert again.arch == spec.arch
    assert isinstance(again.build("generator"), StyleGan2Generator)
    assert isinstance(again.build("discriminator"), StyleGan2Discriminator)


@pytest.mark.parametrize("size", [(96, 96), (64, 128), (4, 4)])
def test_fit_options_refuse_sizes_stylegan2_cannot_make(size: tuple[int, int]) -> None:
    options = FitOptions(data="folder:x", out="run", family="stylegan2", size=size)  # type: ignore[arg-type]
    with pytest.raises(InputError) as info:
        options.validate()
    assert info.value.source == "--size"
    paired = FitOptions(data="folder:x", out="run", family="stylegan2", size=(64, 64), lambda_pair_l1=1.0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unconditional"):
        paired.validate()
