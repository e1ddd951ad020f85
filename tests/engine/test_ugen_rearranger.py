"""ugen's rearranger (engine/networks/rearranger.py): shapes and the attention's invariances."""

from __future__ import annotations

import pytest
import torch

from engine.networks.rearranger import Rearranger, RearrangerConfig, position_encoding
from engine.networks.stylegan2 import StyleGan2Config, StyleGan2Generator

K = 6


def _rearranger(channels: int = 8, *, position: bool = True, seed: int = 0) -> Rearranger:
    torch.manual_seed(seed)
    config = RearrangerConfig(channels, K, attention_dim=16, hidden=16, position_encoding=position)
    net = Rearranger(config).eval()
    # Make every part matter: the residual blocks start as the identity (zero last conv).
    with torch.no_grad():
        for block in (net.block_pre, net.block_post):
            block.body[-1].weight.normal_(0, 0.05)
    return net


def _inputs(b: int = 2, c: int = 8, h: int = 8, w: int = 8, seed: int = 1) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    return (
        torch.randn(b, c, h, w, generator=gen),
        torch.randn(b, 3, h, w, generator=gen),
        torch.randint(0, K, (b, h, w), generator=gen),
    )


def test_shapes_and_the_split_stylegan2_renders_the_rearranged_features() -> None:
    torch.manual_seed(0)
    g = StyleGan2Generator(StyleGan2Config.small(32).generator).eval()
    ws = g.mapping(torch.randn(2, g.config.z_dim))
    x, img = g.head(ws, 8, noise_mode="const")
    net = Rearranger(RearrangerConfig.small(x.shape[1], K))
    mask = torch.randint(0, K, (2, 8, 8))
    feats, skip = net(x, img, mask)
    assert feats.shape == x.shape and skip.shape == img.shape
    assert g.tail(ws, feats, skip, 8, noise_mode="const").shape == (2, 3, 32, 32)
    # A target grid of another size: the output follows the mask's size.
    feats, skip = net(x, img, torch.randint(0, K, (2, 4, 12)))
    assert feats.shape == (2, x.shape[1], 4, 12) and skip.shape == (2, 3, 4, 12)
    with pytest.raises(ValueError, match="mask"):
        net(x, img, torch.rand(2, K + 1, 8, 8))


def test_position_encoding_peaks_where_positions_meet() -> None:
    pe = position_encoding(32, 8, 8).flatten(1)  # (32, 64)
    assert pe.square().mean().item() == pytest.approx(1.0, rel=1e-5)
    gram = pe.T @ pe
    assert torch.equal(gram.argmax(dim=1), torch.arange(64))  # every position is most like itself


def test_without_position_encoding_the_order_of_source_pixels_does_not_matter() -> None:
    net = _rearranger(position=False)
    feats, img, mask = _inputs()
    out_f, out_i = net(feats, img, mask)
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(2))

    def shuffle(t: torch.Tensor) -> torch.Tensor:
        return t.flatten(2)[:, :, perm].reshape(t.shape)

    f2, i2 = net(shuffle(feats), shuffle(img), mask)
    torch.testing.assert_close(f2, out_f, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(i2, out_i, atol=1e-5, rtol=1e-5)
    # With the encoding the keys know where they came from: the same shuffle changes the output.
    net_pe = _rearranger(position=True)
    assert not torch.allclose(
        net_pe(shuffle(feats), shuffle(img), mask)[0], net_pe(feats, img, mask)[0], atol=1e-3
    )


def test_the_output_follows_the_target_mask_and_batch_samples_stay_apart() -> None:
    net = _rearranger()
    feats, img, mask = _inputs(b=3)
    out, _ = net(feats, img, mask)
    other = mask.clone()
    other[0, :4] = (other[0, :4] + 1) % K
    changed, _ = net(feats, img, other)
    assert not torch.allclose(changed[0], out[0], atol=1e-4)
    torch.testing.assert_close(changed[1:], out[1:])  # only sample 0's target changed
    # Sample 1 attends only to its own features: changing sample 2's leaves it alone.
    feats2 = feats.clone()
    feats2[2] += 1
    torch.testing.assert_close(net(feats2, img, mask)[0][1], out[1])


def test_uniform_source_features_come_through_unchanged_at_initialisation() -> None:
    """Values start as the identity and the last block as the identity, and attention
    weights sum to 1: a source whose every pixel holds the same vector is returned as it is,
    whatever the target mask."""
    net = Rearranger(RearrangerConfig.small(8, K)).eval()
    vec = torch.randn(2, 8, 1, 1)
    feats, img = vec.expand(2, 8, 8, 8), torch.full((2, 3, 8, 8), 0.25)
    out_f, out_i = net(feats, img, torch.randint(0, K, (2, 8, 8)))
    torch.testing.assert_close(out_f, vec.expand_as(out_f), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out_i, torch.full_like(out_i, 0.25))


def test_a_sharp_positional_attention_copies_the_source_in_place() -> None:
    """With the mask embedding and the feature keys switched off, queries and keys are the
    position encoding alone; made sharp, each target pixel takes its own source pixel: the
    output is the input. This pins the query/key/value wiring and the reshapes."""
    net = Rearranger(RearrangerConfig(8, K, attention_dim=32, hidden=8)).eval()
    with torch.no_grad():
        net.embed.weight.zero_()
        net.embed.bias.zero_()
        net.to_key.weight.zero_()
        net.to_key.bias.zero_()
        net.to_query.weight.copy_(100.0 * torch.eye(32)[:, :, None, None])
        net.to_query.bias.zero_()
    feats, img, mask = _inputs(c=8, h=6, w=10)
    out_f, out_i = net(feats, img, mask)
    torch.testing.assert_close(out_f, feats, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(out_i, img, atol=1e-3, rtol=1e-3)
    # A horizontally flipped source comes out flipped: the output is the source, read in place.
    torch.testing.assert_close(
        net(feats.flip(-1), img.flip(-1), mask)[0], feats.flip(-1), atol=1e-3, rtol=1e-3
    )


def test_soft_masks_equal_one_hot_masks_when_hard_and_carry_gradients() -> None:
    net = _rearranger()
    feats, img, mask = _inputs()
    onehot = torch.nn.functional.one_hot(mask, K).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(net(feats, img, onehot)[0], net(feats, img, mask)[0])
    soft = onehot.clone().requires_grad_(True)
    net(feats, img, soft)[0].square().mean().backward()
    assert soft.grad is not None and soft.grad.abs().sum() > 0  # the semantic mapper trains through it
