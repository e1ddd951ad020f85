"""MSCA's self-supervision: target and exemplar patches cut from one training image.

Supplement Sec. 7: first, two half-size patches of the global image, placed apart
horizontally or vertically ("random collision avoidance") so the exemplar shows the same
scene's style but other content; later, larger crops (¾ of the image) resized to the
patch size, and sometimes the global image itself, so the model also learns the global
scale. The generator reconstructs the target patch from its labels and the exemplar.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _crop(x: torch.Tensor, y0: int, x0: int, size: int) -> torch.Tensor:
    return x[..., y0 : y0 + size, x0 : x0 + size]


def _apart(start: int, room: int, gen: torch.Generator) -> int:
    """A start as far from ``start`` as ``room`` allows, jittered a little."""
    far = room if start < room / 2 else 0
    jitter = int(torch.randint(0, max(1, room // 4) + 1, (1,), generator=gen))
    return max(0, far - jitter) if far else min(room, jitter)


def patch_pairs(
    image: torch.Tensor, onehot: torch.Tensor, stage: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(target image, target one-hot, exemplar image, exemplar one-hot), each at half the
    input size. ``stage`` 1: half-size patches kept apart; stage 2: ¾-size crops resized,
    and the global image for a third of the samples."""
    b, _, h, w = image.shape
    size = min(h, w) // 2
    out: list[list[torch.Tensor]] = [[], [], [], []]
    for i in range(b):
        img, lab = image[i : i + 1], onehot[i : i + 1]
        use_global = stage >= 2 and float(torch.rand(1, generator=gen)) < 1 / 3
        if use_global:
            crops = [(img, lab), (img, lab)]
        else:
            crop = size if stage < 2 else (3 * min(h, w)) // 4
            room_y, room_x = h - crop, w - crop
            y1 = int(torch.randint(0, room_y + 1, (1,), generator=gen))
            x1 = int(torch.randint(0, room_x + 1, (1,), generator=gen))
            if float(torch.rand(1, generator=gen)) < 0.5:  # apart horizontally
                y2, x2 = int(torch.randint(0, room_y + 1, (1,), generator=gen)), _apart(x1, room_x, gen)
            else:
                y2, x2 = _apart(y1, room_y, gen), int(torch.randint(0, room_x + 1, (1,), generator=gen))
            crops = [(_crop(t, y, x, crop) for t in (img, lab)) for y, x in ((y1, x1), (y2, x2))]
            crops = [tuple(pair) for pair in crops]
        for j, (ci, cl) in enumerate(crops):
            if ci.shape[-2:] != (size, size):
                ci = F.interpolate(ci, size=(size, size), mode="bilinear", antialias=True)
                cl = F.interpolate(cl, size=(size, size), mode="nearest")
            if float(torch.rand(1, generator=gen)) < 0.5:  # random flips, per patch
                ci, cl = ci.flip(-1), cl.flip(-1)
            out[2 * j].append(ci)
            out[2 * j + 1].append(cl)
    target_img, target_lab, ex_img, ex_lab = (torch.cat(parts) for parts in out)
    return target_img, target_lab, ex_img, ex_lab
