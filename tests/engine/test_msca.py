"""MSCA: attention shapes, masking, style interpolation endpoints, the GAP baseline."""

from __future__ import annotations

import pytest
import torch

from engine.networks.msca import MaskedSpatialChannelAttention, MscaConfig, MscaGenerator, MscaModelConfig

NC = 6


def _onehot(h: int, w: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = (
        torch.randint(0, NC, (1, h // 8, w // 8), generator=g).repeat_interleave(8, 1).repeat_interleave(8, 2)
    )
    return torch.zeros(1, NC, h, w).scatter_(1, ids[:, None], 1.0)


def _image(h: int, w: int, seed: int) -> torch.Tensor:
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module", params=["msca", "gap"])
def net(request: pytest.FixtureRequest) -> MscaGenerator:
    torch.manual_seed(0)
    config = MscaConfig(NC, base=8, scales=3, slots=4, mask_hidden=8, spade_hidden=8, attention=request.param)
    net = MscaGenerator(config)
    # BatchNorm statistics from a few training-mode passes, so the random net is not
    # saturated (with init statistics every pixel sits at ±1 and nothing can be compared).
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    with torch.no_grad():
        for seed in range(3):
            net(_onehot(32, 32, 10 + seed), _image(32, 32, 20 + seed), _onehot(32, 32, 30 + seed))
    return net.eval()


def test_shapes_and_exemplars_of_another_size(net: MscaGenerator) -> None:
    with torch.no_grad():
        out = net(_onehot(32, 48, 0), _image(64, 40, 1), _onehot(64, 40, 2))
    assert out.shape == (1, 3, 32, 48) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="divisible by 8"):
        net(_onehot(36, 48, 0), _image(64, 40, 1), _onehot(64, 40, 2))


def test_attention_is_a_convex_combination_and_masking_switches_off() -> None:
    torch.manual_seed(1)
    att = MaskedSpatialChannelAttention(image_nc=5, label_nc=3, slots=4, mask_hidden=6)
    fc1, fc2 = torch.randn(2, 3, 6, 7), torch.randn(2, 3, 5, 9)
    vector = torch.randn(2, 5, 1, 1)
    fx2 = vector.expand(-1, -1, 5, 9)  # the same features everywhere in the exemplar
    features, logits = att.exemplar(fx2, fc2)
    assert features.shape == (2, 5, 45) and logits.shape == (2, 4, 45)
    regions = att.regions(features, logits)
    assert regions.shape == (2, 4, 5)
    torch.testing.assert_close(regions, vector[..., 0, 0][:, None].expand(-1, 4, -1))
    with torch.no_grad():
        att.mask[-1].bias.fill_(40.0)  # every region fully on
        out = att(fc1, fx2, fc2)
        assert out.shape == (2, 5, 6, 7)
        torch.testing.assert_close(out, vector.expand(-1, -1, 6, 7))
        att.mask[-1].bias.fill_(-40.0)  # every region masked out
        assert float(att(fc1, fx2, fc2).abs().max()) < 1e-12


def test_interpolation_endpoints_reproduce_single_exemplars(net: MscaGenerator) -> None:
    target = _onehot(32, 32, 3)
    a = net.encode_exemplar(_image(32, 32, 4), _onehot(32, 32, 5))
    b = net.encode_exemplar(_image(48, 32, 6), _onehot(48, 32, 7))
    with torch.no_grad():
        only_a = net.synthesise(*net.aligned(target, a))
        only_b = net.synthesise(*net.aligned(target, b))
        assert float((only_a - only_b).abs().max()) > 1e-3
        torch.testing.assert_close(net.blend(target, a, b, 1.0), only_a, atol=1e-5, rtol=0)
        torch.testing.assert_close(net.blend(target, a, b, 0.0), only_b, atol=1e-5, rtol=0)
        ones = torch.ones(1, 1, 32, 32)
        torch.testing.assert_close(net.blend(target, a, b, ones), only_a, atol=1e-5, rtol=0)
        torch.testing.assert_close(net.blend(target, a, b, ones * 0), only_b, atol=1e-5, rtol=0)
        half = net.blend(target, a, b, 0.5)
        assert float((half - only_a).abs().mean()) > 0 and float((half - only_b).abs().mean()) > 0
        left = torch.zeros(1, 1, 32, 32)
        left[..., :16] = 1  # style a on the left, b on the right
        mixed = net.blend(target, a, b, left)
        near_a = (mixed - only_a).abs()[..., :8].mean() < (mixed - only_b).abs()[..., :8].mean()
        near_b = (mixed - only_b).abs()[..., 24:].mean() < (mixed - only_a).abs()[..., 24:].mean()
        assert bool(near_a) and bool(near_b)


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="attention"):
        MscaConfig(NC, attention="cross")
    assert MscaConfig(NC, base=32, scales=5).widths == [32, 64, 128, 256, 256]


def test_exemplar_pyramid_keeps_global_colour_and_old_configs_load() -> None:
    from engine.registry import _msca_from_dict

    config = MscaModelConfig.paper(NC)
    assert config.generator.image_norm == "none" and MscaModelConfig.small(NC).generator.image_norm == "none"
    g = MscaGenerator(MscaModelConfig.small(NC).generator).eval()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():  # a darker copy of the same photo is another style: features must differ
        a, b = g.image_encoder(x)[0], g.image_encoder(x * 0.5 - 0.5)[0]
    assert (a.mean((2, 3)) - b.mean((2, 3))).abs().max() > 1e-3
    # config.json written before the field existed: those weights were trained with InstanceNorm.
    old = {"generator": {"semantic_nc": NC}, "discriminator": {"semantic_nc": NC, "instance_edges": False}}
    assert _msca_from_dict(old).generator.image_norm == "instance"
    with pytest.raises(ValueError, match="image_norm"):
        MscaConfig(NC, image_norm="batch")
