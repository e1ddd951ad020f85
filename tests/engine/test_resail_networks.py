"""RESAIL generator (RESAIL residual blocks) and the SESAME two-pathway discriminator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine.networks.resail import (
    EMPTY_GUIDANCE,
    ResailConfig,
    ResailGenerator,
    ResailGeneratorConfig,
    ResailNorm,
)
from engine.networks.sesame_d import SesameDiscriminatorConfig, SesameMultiScaleDiscriminator

# Counted by building the official classes (Shi-Yupeng/RESAIL-For-SIS @ 81899d9f,
# SPADEGenerator with the default SIN norm, SesameMultiscaleDiscriminator; ngf = ndf = 64,
# norm_G spectralspadesyncbatch3x3, norm_D spectralinstance) with the released options;
# their state_dict keys, shapes and order equal ours (checked at the same time).
OFFICIAL_PARAMS = {
    # semantic_nc, (H, W), upsampling → (G parameters, D parameters)
    (151, (256, 256), "normal"): (134_558_055, 11_342_082),  # ADE20K / ADE20K-outdoor
    (35, (256, 512), "more"): (126_272_871, 11_104_514),  # Cityscapes
}
OFFICIAL_G_BUFFERS = 114_066  # BN running stats, spectral-norm u/v, num_batches_tracked
OFFICIAL_G_KEYS = 522
CLASSES = 6


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def onehot(batch: int = 2, size: int = 96, edges: bool = False, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, CLASSES, (batch, 1, size // 8, size // 8), generator=g)
    ids = F.interpolate(ids.float(), size=(size, size), mode="nearest").long()
    maps = torch.zeros(batch, CLASSES, size, size).scatter_(1, ids, 1.0)
    if edges:
        maps = torch.cat((maps, torch.zeros(batch, 1, size, size)), dim=1)
    return maps


def guidance(batch: int = 2, size: int = 96, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=g) * 2 - 1


def norms(net: torch.nn.Module) -> list[ResailNorm]:
    return [m for m in net.modules() if isinstance(m, ResailNorm)]


# ------------------------------------------------------------------------ paper configs
@pytest.mark.parametrize(("key", "expected"), OFFICIAL_PARAMS.items())
def test_paper_parameter_counts_match_the_official_nets(key: tuple, expected: tuple[int, int]) -> None:
    nc, (h, w), mode = key
    with torch.device("meta"):
        g = ResailGenerator(ResailGeneratorConfig.for_output(nc, h, w, num_upsampling=mode))
        d = SesameMultiScaleDiscriminator(SesameDiscriminatorConfig(nc))
    assert (count(g), count(d)) == expected
    assert sum(b.numel() for b in g.buffers()) == OFFICIAL_G_BUFFERS
    assert len(g.state_dict()) == OFFICIAL_G_KEYS


def test_paper_nets_use_the_official_names() -> None:
    with torch.device("meta"):
        config = ResailConfig.paper(151)
        g = ResailGenerator(config.generator).state_dict()
        d = SesameMultiScaleDiscriminator(config.discriminator).state_dict()
    for key in (
        "fc.weight",
        "head_0.norm_0.blending_gamma",
        "head_0.norm_0.param_free_norm.running_var",
        "G_middle_1.norm_1.conv_s2.weight",
        "up_0.conv_s.weight_orig",
        "up_3.norm_s.conv1.weight",
        "up_3.norm_s.mlp_shared.0.weight",
        "up_3.norm_s.conv_beta.bias",
        "conv_img.weight",
    ):
        assert key in g, key
    assert g["up_2.norm_0.conv_s.weight"].shape == (256, 151, 3, 3)  # 3×3, 2 × style_length out
    assert g["up_2.norm_0.conv_gamma.weight"].shape == (256, 128, 3, 3)
    for key in ("discriminator_1.sem_sequence.3.0.0.weight_orig", "discriminator_0.img_sequence.4.0.bias"):
        assert key in d, key
    assert d["discriminator_0.sem_sequence.0.0.weight"].shape == (64, 151, 4, 4)
    assert d["discriminator_0.img_sequence.0.0.weight"].shape == (64, 3, 4, 4)


def test_paper_forward_shapes_on_meta() -> None:
    with torch.device("meta"):
        config = ResailConfig.paper(151)
        g = ResailGenerator(config.generator)
        d = SesameMultiScaleDiscriminator(config.discriminator)
        image = g(torch.zeros(1, 151, 256, 256), torch.zeros(1, 3, 256, 256))
        out = d(torch.zeros(1, 151, 256, 256), image)
    assert image.shape == (1, 3, 256, 256)
    assert [[t.shape[1] for t in scale] for scale in out] == [[64, 128, 256, 512, 1]] * 2
    assert out[0][-1].shape[-2:] == (35, 35) and out[1][-1].shape[-2:] == (19, 19)


# ------------------------------------------------------------------------ small configs
@pytest.mark.parametrize("edges", [False, True])
def test_small_forward_shapes(edges: bool) -> None:
    torch.manual_seed(0)
    config = ResailConfig.small(CLASSES, instance_edges=edges)
    g, d = ResailGenerator(config.generator), SesameMultiScaleDiscriminator(config.discriminator)
    cond = onehot(edges=edges)
    image = g(cond, guidance())
    assert image.shape == (2, 3, 96, 96) and image.abs().max() <= 1
    out = d(cond, image)
    assert len(out) == 2 and all(len(scale) == 5 for scale in out)
    assert [t.shape[1] for t in out[0]] == [4, 8, 16, 32, 1]
    # A canvas of another multiple of 32 is painted at its own size.
    assert g(onehot(1, 128, edges), guidance(1, 128)).shape == (1, 3, 128, 128)


def test_fusion_weights_start_at_one_half() -> None:
    g = ResailGenerator(ResailConfig.small(CLASSES).generator)
    layers = norms(g)
    assert len(layers) == 3 * 4 + 2 * 3  # every norm of every block, the 4 shortcuts' included
    for layer in layers:
        assert layer.blending_gamma.item() == 0 and layer.blending_beta.item() == 0
        assert torch.sigmoid(layer.blending_gamma).item() == 0.5


def test_gradients_reach_both_branches() -> None:
    torch.manual_seed(0)
    g = ResailGenerator(ResailConfig.small(CLASSES).generator)
    g(onehot(), guidance()).square().mean().backward()
    for layer in norms(g):
        for name in ("mlp_shared.0", "mlp_gamma", "mlp_beta"):  # semantic branch
            assert layer.get_submodule(name).weight.grad.abs().sum() > 0, name
        for name in ("conv1", "conv2", "conv3", "conv_gamma", "conv_beta", "conv_s", "conv_s2"):  # guidance
            assert layer.get_submodule(name).weight.grad.abs().sum() > 0, name
        assert layer.blending_gamma.grad.abs() > 0 and layer.blending_beta.grad.abs() > 0


def test_empty_guidance_does_not_depend_on_its_values() -> None:
    torch.manual_seed(0)
    g = ResailGenerator(ResailConfig.small(CLASSES).generator).eval()
    cond, none = onehot(), torch.zeros(2, 1, 96, 96)
    with torch.no_grad():
        a = g(cond, guidance(seed=1), none)
        b = g(cond, guidance(seed=2), none)
        c = g(cond, torch.full((2, 3, 96, 96), EMPTY_GUIDANCE))
        d = g(cond, guidance(seed=2), torch.ones(2, 96, 96))
    assert torch.equal(a, b) and torch.equal(a, c)
    assert (d - a).abs().max() > 1e-3  # … while valid guidance does steer the output


def test_valid_mask_only_empties_its_zero_pixels() -> None:
    torch.manual_seed(0)
    g = ResailGenerator(ResailConfig.small(CLASSES).generator).eval()
    cond, guide = onehot(), guidance()
    valid = torch.zeros(2, 1, 96, 96)
    valid[..., :48] = 1
    filled = guide.clone()
    filled[..., 48:] = EMPTY_GUIDANCE
    with torch.no_grad():
        assert torch.equal(g(cond, guide, valid), g(cond, filled))


def test_adain_parameters_equal_the_full_conv_then_pooling() -> None:
    torch.manual_seed(0)
    layer = ResailNorm(norm_nc=4, cond_nc=5, style_length=8, spade_hidden=8)
    for h, w in ((3, 3), (8, 8), (7, 12), (33, 20)):
        seg = torch.rand(2, 5, h, w)
        c1, c2 = layer.adain_params(seg)
        ref = layer.conv_s(seg).mean(dim=(2, 3), keepdim=True)
        torch.testing.assert_close(c1, ref, atol=1e-5, rtol=0)
        torch.testing.assert_close(c2, layer.conv_s2(ref), atol=1e-5, rtol=0)


def test_bad_inputs_are_refused_with_the_reason() -> None:
    g = ResailGenerator(ResailConfig.small(CLASSES).generator)
    with pytest.raises(ValueError, match="one-hot channels"):
        g(onehot(edges=True), guidance())
    with pytest.raises(ValueError, match="guidance"):
        g(onehot(), guidance(size=64))
    with pytest.raises(ValueError, match="3×3"):
        ResailGeneratorConfig.for_output(CLASSES, 64, 64)
    d = SesameMultiScaleDiscriminator(SesameDiscriminatorConfig(CLASSES, ndf=4))
    with pytest.raises(ValueError, match="label channels"):
        d(onehot(edges=True), guidance())


def test_config_ties_the_discriminator_to_the_generator_labels() -> None:
    config = ResailConfig.small(CLASSES, instance_edges=True)
    assert config.discriminator.label_nc == config.generator.cond_nc == CLASSES + 1
    with pytest.raises(ValueError, match="label channels"):
        ResailConfig(config.generator, SesameDiscriminatorConfig(CLASSES))
