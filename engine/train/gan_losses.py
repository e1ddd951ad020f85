"""GAN losses shared by the families: hinge GAN on a multi-scale discriminator, feature
matching on its deepest features (INADE, MSCA), the KL term of a noise-remapping encoder
(INADE; the official pix2pix_model / loss code, in our words), the optional paired
low-frequency L1 (OASIS, INADE; beyond the papers), and StyleGAN2's non-saturating
logistic loss with the R1 gradient penalty (StyleGAN2; ugen's adversarial terms).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.networks.inade import InstanceStyle

# The supplement: "we only use high-level features and set S_D to 3" — of the four
# intermediate outputs of each PatchGAN scale, only index 3 enters feature matching.
FEATURE_START = 3


def split_fake_real(
    both: list[list[torch.Tensor]],
) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    """(fake, real) halves, in fp32, of the PatchGAN's per-scale outputs for one batch of
    [fakes ‖ reals] (one forward for both sides, as the official code does)."""
    fake = [[t.chunk(2)[0].float() for t in scale] for scale in both]
    real = [[t.chunk(2)[1].float() for t in scale] for scale in both]
    return fake, real


def hinge_d(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """Mean over scales of mean(relu(1 − D(real))) + mean(relu(1 + D(fake)))."""
    loss = sum(F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake))
    return loss / len(real)


def hinge_g(fake: list[list[torch.Tensor]]) -> torch.Tensor:
    return -sum(f[-1].mean() for f in fake) / len(fake)


def feature_matching(
    real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]], start: int = FEATURE_START
) -> torch.Tensor:
    """L1 between D's intermediate features of real and fake from index ``start`` on
    (INADE: FEATURE_START; 0 = all of them), averaged over scales."""
    total = fake[0][-1].new_zeros(())
    for r, f in zip(real, fake):
        for j in range(start, len(f) - 1):
            total = total + F.l1_loss(f[j], r[j].detach())
    return total / len(fake)


def kl_divergence(style: InstanceStyle, present: torch.Tensor) -> torch.Tensor:
    """0.5 · (KL(q_γ ‖ N(0, I)) + KL(q_β ‖ N(0, I))), summed over instances and dims.

    ``present`` (B, K) marks instances that have pixels: padding instances of a batch
    (images have different K) contribute nothing.
    """
    mask = present[..., None].to(style.scale_mu.dtype)

    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return -0.5 * ((1 + logvar - mu.pow(2) - logvar.exp()) * mask).sum()

    return 0.5 * (kl(style.scale_mu, style.scale_logvar) + kl(style.bias_mu, style.bias_logvar))


def pair_l1(fake: torch.Tensor, image: torch.Tensor, weight: float, pool: int) -> torch.Tensor:
    """``weight`` × L1 between the generated and the paired real image after ``pool``×``pool``
    average pooling, so only layout-level colour is tied to the pair; 0 when off or empty."""
    if weight == 0 or fake.shape[0] == 0:
        return torch.zeros((), device=fake.device)
    pooled = F.avg_pool2d(fake, pool, ceil_mode=True), F.avg_pool2d(image, pool, ceil_mode=True)
    return weight * F.l1_loss(*pooled)


def logistic_d(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logistic loss, (real term, fake term): mean softplus(−D(real)), mean softplus(D(fake))."""
    return F.softplus(-real_logits).mean(), F.softplus(fake_logits).mean()


def logistic_g(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: mean softplus(−D(fake)) = −log sigmoid(D(fake))."""
    return F.softplus(-fake_logits).mean()


def r1_penalty(logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): the batch mean of ‖∇ₓ D(x)‖² on real images.

    ``real`` must require grad and ``logits`` be D(real); the graph is kept so the
    penalty itself can be back-propagated into D. Weighted by γ/2 by the caller.
    """
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.float().square().flatten(1).sum(dim=1).mean()
