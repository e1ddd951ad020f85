"""Style from a photo for ugen: invert the photo into the unconditional StyleGAN2.

The paper's exemplar-guided generation (Chae et al., NeurIPS 2023): a photo is inverted into
the frozen generator, and the features G₁ makes from the recovered latent are rearranged to
the user's own layout. Its proxy mask (``proxy_of_w``) is the photo's layout in the
generator's terms, which the user may edit and render back.

The inversion follows the StyleGAN2 paper's projector in outline; the choices are ours:

* one w (W space, the same w for every layer) is optimised with Adam, starting from the
  mean w of ``W_SAMPLES`` mapped z's (the tracked ``w_avg`` buffer is zero in a generator
  that never tracked it; the sample mean is the same quantity, always there);
* the learning rate rises over the first ``LR_RAMP_UP`` of the steps and falls to zero on
  a half cosine over the last ``LR_RAMP_DOWN``: the first steps' gradients are the
  roughest, and the last ones should settle;
* early on, Gaussian noise (``NOISE_START`` × the spread of w — the RMS distance of mapped
  w's to their mean — per component, fading quadratically to zero
  at ``NOISE_END`` of the run) is added to the w each step scores, so Adam explores
  around the mean before it commits to one basin;
* the per-layer noise images are the generator's constant ones ("const"), as every render
  of the synthesizer uses, so the inverted image is the one the studio will show;
* the loss (:mod:`engine.inference.ugen_invert_loss`) compares the generator's skip image at
  ``WORK_SIDE``² at most with the photo resized to it: at 256² the last block triples a
  step's cost (2.3 s against 0.46 s on one thread) and adds detail, not style;
* the best w scored is returned, so a cancelled run still gives its best so far.

The synthesizer's precision applies: with a bf16 renderer the generator runs under bf16
autocast (about 1.6× faster on CPUs with native bf16).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import InputError
from engine.inference.ugen_invert_loss import PhotoDistance, fit_photo, to_model_range
from engine.inference.ugen_synth import UgenSynthesizer
from engine.networks.stylegan2 import StyleGan2Generator

DEFAULT_STEPS = 60  # ~0.45 s a step at 256² (widths 128, one busy thread): ≤ ~30 s in all
LEARNING_RATE = 0.05
LR_RAMP_UP = 0.05  # share of the steps over which the learning rate rises to LEARNING_RATE
LR_RAMP_DOWN = 0.25  # share of the steps at the end over which it falls to 0
NOISE_START = 0.05  # noise on w at the first step, in units of w's spread
NOISE_END = 0.75  # share of the steps after which no noise is added
WORK_SIDE = 128  # the largest side the loss is computed at
W_SAMPLES = 1000  # mapped z's for the mean and spread of w
MAX_STEPS = 10000


@dataclass(frozen=True)
class InvertedStyle:
    """The result of :func:`invert_photo`; ``UgenSynthesizer.set_style_w(style.w)`` paints with it."""

    w: np.ndarray  # (w_dim,) float32: the latent whose features carry the photo's style
    image: np.ndarray  # H×W×3 uint8: the unconditional generator's image of w
    proxy: np.ndarray  # (r, r) int32: w's proxy mask (the photo's layout in cluster ids)
    target: np.ndarray  # H×W×3 uint8: the photo as the generator was asked to match it
    loss: float  # the distance of w's image to the photo (see ugen_invert_loss)
    start_loss: float  # the same for the mean w the run started from
    steps_done: int
    steps: int  # asked for
    cancelled: bool  # stopped early: w is the best of the steps done
    seconds: float


def invert_photo(
    synth: UgenSynthesizer,
    photo: np.ndarray,
    steps: int = DEFAULT_STEPS,
    progress: Callable[[int, int], None] | None = None,  # (steps done, steps) after every step
    cancelled: Callable[[], bool] | None = None,  # asked before every step; True stops the run
    seed: int = 0,  # of the noise added to w early on
    *,
    source: str = "photo",  # the photo's name in errors (its file)
) -> InvertedStyle:
    """Find the w whose image under ``synth``'s StyleGAN2 looks most like ``photo`` (H×W×3 uint8,
    any size: its central square is used). Thread-safe against the synthesizer's renders: it
    reads the generator's weights and changes nothing."""
    if not 0 <= steps <= MAX_STEPS:
        raise InputError(
            f"{steps} steps is outside 0–{MAX_STEPS}", source="steps", fix=f"use e.g. {DEFAULT_STEPS}"
        )
    began = time.perf_counter()
    g, device = synth.generator, synth.device
    target = fit_photo(photo, synth.image_side, source)
    side = min(synth.image_side, WORK_SIDE)
    distance = PhotoDistance(
        torch.nn.functional.avg_pool2d(to_model_range(target, device), synth.image_side // side)
    )
    bf16 = synth.renderer.dtype == torch.bfloat16
    precision = torch.autocast(device.type, torch.bfloat16) if bf16 else contextlib.nullcontext()

    def score(w: torch.Tensor) -> torch.Tensor:
        with precision:
            return distance(_image(g, w, side))

    w_avg, w_std = _w_statistics(g)
    with torch.no_grad():
        start_loss = float(score(w_avg))
    best_w, best_loss = w_avg, start_loss
    w = w_avg.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([w], lr=LEARNING_RATE)
    noise_gen = torch.Generator().manual_seed(seed)
    done, stopped = 0, False
    with torch.enable_grad():
        for step in range(steps):
            if cancelled is not None and cancelled():
                stopped = True
                break
            for group in optimiser.param_groups:
                group["lr"] = LEARNING_RATE * _lr_ramp(step, steps)
            noise = torch.randn(w.shape, generator=noise_gen).to(device) * w_std * _noise_scale(step / steps)
            tried = w + noise
            loss = score(tried)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            value = float(loss.detach())
            if value < best_loss:
                best_w, best_loss = tried.detach().clone(), value
            done = step + 1
            if progress is not None:
                progress(done, steps)
    if done:  # the last update was never scored
        with torch.no_grad():
            last = w.detach().clone()
            value = float(score(last))
        if value < best_loss:
            best_w, best_loss = last, value
    return InvertedStyle(
        w=best_w.float().cpu().numpy(),
        image=synth.image_of_w(best_w),
        proxy=synth.proxy_of_w(best_w),
        target=target,
        loss=best_loss,
        start_loss=start_loss,
        steps_done=done,
        steps=steps,
        cancelled=stopped,
        seconds=time.perf_counter() - began,
    )


def _image(g: StyleGan2Generator, w: torch.Tensor, side: int) -> torch.Tensor:
    """The image of one w (w_dim,) at ``side``: the output, or the skip image where G stops early."""
    ws = w.reshape(1, 1, -1).expand(1, g.config.num_ws, -1)
    if side == g.config.resolution:
        return g.synthesis(ws, noise_mode="const")
    return g.head(ws, side, noise_mode="const")[1]


@torch.no_grad()
def _w_statistics(g: StyleGan2Generator) -> tuple[torch.Tensor, float]:
    """The mean w (w_dim,) of W_SAMPLES fixed z's and their RMS distance to it."""
    z = torch.randn(W_SAMPLES, g.config.z_dim, generator=torch.Generator().manual_seed(0))
    w = g.mapping(z.to(g.mapping.w_avg.device))[:, 0].float()
    mean = w.mean(dim=0)
    return mean, float((w - mean).square().sum(dim=1).mean().sqrt())


def _lr_ramp(step: int, steps: int) -> float:
    """Learning-rate factor of step ``step`` of ``steps``: linear rise (the first step already
    moves), flat, half-cosine fall towards 0."""
    up = min(1.0, (step + 1) / max(1.0, LR_RAMP_UP * steps))
    down = min(1.0, (1 - step / steps) / LR_RAMP_DOWN)
    return up * (0.5 - 0.5 * math.cos(down * math.pi))


def _noise_scale(t: float) -> float:
    return NOISE_START * max(0.0, 1 - t / NOISE_END) ** 2
