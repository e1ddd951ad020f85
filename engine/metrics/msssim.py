"""Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) for diversity between samples.

Lower MS-SSIM between two samples of the same label map = more diverse outputs (the
OASIS paper's Table 2). The Gaussian window shrinks when an image is too small for the
standard 11×11 at the coarsest of the five scales.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _window(size: int, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = (g / g.sum()).float()
    return (g[:, None] * g[None, :])[None, None]


def _ssim_parts(x: torch.Tensor, y: torch.Tensor, win: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    c1, c2 = 0.01**2, 0.03**2  # for images in [0, 1]
    ch = x.shape[1]
    w = win.expand(ch, 1, *win.shape[-2:])

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=ch)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return (luminance * cs).mean((1, 2, 3)), cs.mean((1, 2, 3))


def ms_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MS-SSIM per image of two (B, 3, H, W) batches in [0, 1]."""
    scales = len(WEIGHTS)
    size = min(11, min(x.shape[-2:]) // 2 ** (scales - 1))
    if size < 3:
        raise ValueError(f"MS-SSIM needs images of at least {3 * 2 ** (scales - 1)} px a side")
    win = _window(size if size % 2 else size - 1)
    factors = []
    for i in range(scales):
        ssim, cs = _ssim_parts(x, y, win)
        if i < scales - 1:
            factors.append(cs.clamp(min=0) ** WEIGHTS[i])
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        else:
            factors.append(ssim.clamp(min=0) ** WEIGHTS[i])
    return torch.stack(factors).prod(0)
