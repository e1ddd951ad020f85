"""Quality measures: label fidelity (mIoU), realism (Fréchet distances), diversity
(MS-SSIM) and the OASIS paper's colour (LAB histogram EMD) and texture (LBP χ²) distances."""

from engine.metrics.distributions import ColourTextureStats, frechet_distance
from engine.metrics.msssim import ms_ssim
from engine.metrics.segmentation import ConfusionMatrix

__all__ = ["ColourTextureStats", "ConfusionMatrix", "frechet_distance", "ms_ssim"]
