"""Backend names, what each runs, and how close to eager fp32 each must stay.

Kept free of imports so ``app-train --help`` does not load torch.
"""

from __future__ import annotations

# Max abs difference to eager fp32 on the [-1, 1] image. fp32 backends only reorder sums;
# bf16 keeps 8 mantissa bits. Its worst pixel depends on the image: for the landscapes OASIS
# retrained on 2026-12-05 (sharper textures) gather-bf16's max over 8 test maps at 256² ranged
# 0.025–0.072 while 99.9 % of pixels stayed within 0.032, so the former 0.03 made `auto` pick
# fp32 (76 ms a stroke instead of ~50) on one unlucky first image. 0.08 is 10 grey levels of
# 255 at the single worst pixel; a broken bf16 path is off by far more.
FP32_TOLERANCE = 1e-4
BF16_TOLERANCE = 0.08

# name → what runs, as shown to the user ("Synthesizer.backend_name", reports).
DESCRIPTIONS = {
    "eager": "torch-eager fp32",
    "bf16": "torch-bf16 autocast channels_last",
    "gather": "torch gather fp32",
    "gather-bf16": "torch gather bf16 channels_last",
    "onnx-cpu": "onnxruntime-cpu fp32",
    "onnx-cuda": "onnxruntime-cuda fp32",
    "onnx-tensorrt": "onnxruntime-tensorrt fp32",
}
TOLERANCES = {name: BF16_TOLERANCE if "bf16" in name else FP32_TOLERANCE for name in DESCRIPTIONS}

# What a user may ask for: a backend name, "onnx" (the device's ONNX Runtime provider)
# or "auto" (measure once per model, size and device; pick the fastest that matches eager).
CHOICES = ("eager", "bf16", "gather", "gather-bf16", "onnx", "onnx-cpu", "onnx-cuda", "onnx-tensorrt", "auto")
