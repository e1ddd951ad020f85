"""Inference backends behind ``Synthesizer``: torch eager fp32 (the reference), torch bf16
autocast + channels_last, the token-gather OASIS in fp32 and bf16, and ONNX Runtime
(CPU, CUDA, TensorRT providers).

- ``names``: backend names, descriptions, tolerances (no imports, so the CLI stays fast);
- ``base``: the ``Backend`` protocol, weights digest, parity inputs;
- ``torch_backends``, ``gather``, ``onnx_runtime``: the backends; ``onnx_folder``: generator.onnx in
  a weights folder (``app-train export --onnx``);
- ``registry``: make a backend by name; ``auto``: measure, pick and remember.
"""
