"""ONNX export of the OASIS generator and the ONNX Runtime backend (CPU, CUDA, TensorRT).

The export uses torch's TorchScript-based exporter (``dynamo=False``): the dynamo
exporter needs ``onnxscript``, which Tessera does not depend on. Height and width are
dynamic axes, so one file serves every size that is a multiple of the model's. Each file
is stamped with the digest of the weights it was made from (``tessera.weights_hash``),
so a stale export is recognised without running it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from engine.fileio import atomic_write_bytes
from engine.inference.backends.base import BackendUnavailable, example_inputs
from engine.inference.backends.names import DESCRIPTIONS, FP32_TOLERANCE
from engine.networks.oasis import OasisGenerator
from engine.paths import user_cache_dir

OPSET = 17  # supported by torch's TorchScript exporter and every onnxruntime ≥ 1.14
INPUT_NAMES = ("onehot", "noise")
OUTPUT_NAME = "image"
HASH_KEY = "tessera.weights_hash"
FOLDER_FILE = "generator.onnx"  # written next to generator.safetensors by `app-train export --onnx`
PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
}


def _onnxruntime():  # the module, or None where it is not installed
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def onnx_backend_names(device: torch.device) -> list[str]:
    """ONNX Runtime backends worth trying for ``device``.

    ``get_available_providers`` lists what the wheel was built with (onnxruntime-gpu lists
    CUDA on machines without a GPU), so GPU providers are offered only for a CUDA device
    and a session that silently fell back to the CPU is refused in ``OnnxRuntime``.
    """
    ort = _onnxruntime()
    if ort is None:
        return []
    if device.type != "cuda":
        return ["onnx-cpu"]
    available = set(ort.get_available_providers())
    return [f"onnx-{p}" for p in ("cuda", "tensorrt") if PROVIDERS[p] in available]


def export_generator(generator: OasisGenerator, path: Path | str, *, weights_hash: str) -> Path:
    """Write ``generator`` (spectral norm folded, eval mode) as ONNX with dynamic H and W."""
    import onnx

    cfg = generator.config
    m = cfg.size_multiple
    # Trace at a non-square size so no H == W coincidence can be baked into the graph.
    onehot, noise = example_inputs(cfg.semantic_nc, cfg.z_dim, 2 * m, 3 * m)
    device = next(generator.parameters()).device
    dynamic = {2: "height", 3: "width"}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The exporter warns that it is the legacy one, and the tracer warns about the
        # shape checks in forward(); those are constant for every valid size.
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                generator.eval(),
                (onehot.to(device), noise.to(device)),
                buffer,
                dynamo=False,
                opset_version=OPSET,
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={name: dynamic for name in (*INPUT_NAMES, OUTPUT_NAME)},
            )
        except Exception as exc:  # the exporter raises many types; all mean "no ONNX here"
            raise BackendUnavailable(
                f"torch {torch.__version__} could not export the generator to ONNX ({exc})",
                source="backend",
                fix="use the eager backend, or a torch version whose TorchScript ONNX exporter works",
            ) from exc
    model = onnx.load_from_string(buffer.getvalue())
    stamp = model.metadata_props.add()
    stamp.key, stamp.value = HASH_KEY, weights_hash
    try:
        return atomic_write_bytes(path, model.SerializeToString())
    except OSError as exc:
        raise BackendUnavailable(
            f"cannot write the ONNX export ({exc})",
            source=path,
            fix="make the folder writable or set TESSERA_CACHE to a writable folder; or use 'eager'",
        ) from exc


def stamped_hash(path: Path | str) -> str | None:
    """The weights digest an exported file was stamped with; None if unreadable or unstamped."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (OSError, ValueError, DecodeError):
        return None
    return {p.key: p.value for p in model.metadata_props}.get(HASH_KEY)


def onnx_model_for(generator: OasisGenerator, weights_hash: str, folder: Path | None = None) -> Path:
    """An ONNX file of exactly these weights: the weights folder's own generator.onnx if its
    stamp matches, else one in the user cache (exported on first use, then reused)."""
    if folder is not None and (folder / FOLDER_FILE).is_file():
        if stamped_hash(folder / FOLDER_FILE) == weights_hash:
            return folder / FOLDER_FILE
    path = user_cache_dir() / "onnx" / f"generator-{weights_hash}.onnx"
    if not path.is_file():  # written atomically, so an existing file is a whole one
        export_generator(generator, path, weights_hash=weights_hash)
    return path


class OnnxRuntime:
    """An ONNX Runtime session on one execution provider; fp32 in and out.

    Inputs go through numpy on the CPU. For the CUDA providers IO binding would save two
    copies per call (a few ms at 512²); not done yet.
    """

    tolerance = FP32_TOLERANCE

    def __init__(self, model_path: Path | str, provider: str = "cpu", *, threads: int | None = None) -> None:
        ort = _onnxruntime()
        name = f"onnx-{provider}"
        if ort is None:
            raise BackendUnavailable(
                "onnxruntime is not installed",
                source="backend",
                fix="pip install onnxruntime, or use 'eager'",
            )
        if provider not in PROVIDERS:
            raise BackendUnavailable(
                f"unknown ONNX Runtime provider '{provider}'",
                source="backend",
                fix="use cpu, cuda or tensorrt",
            )
        self.name, self.description = name, DESCRIPTIONS[name]
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only; provider fallbacks are checked below
        # The same thread budget as torch, so the two are compared (and coexist) fairly.
        options.intra_op_num_threads = threads or torch.get_num_threads()
        wanted = PROVIDERS[provider]
        providers: list = [wanted]
        if provider == "tensorrt":
            # fp32 engines (parity with eager), cached across runs: building one takes minutes.
            cache = user_cache_dir() / "tensorrt"
            cache.mkdir(parents=True, exist_ok=True)
            trt = {
                "trt_fp16_enable": False,
                "trt_engine_cache_enable": True,
                "trt_engine_cache_path": str(cache),
            }
            providers = [(wanted, trt), PROVIDERS["cuda"]]
        if provider != "cpu":
            providers.append(PROVIDERS["cpu"])  # for the few nodes a GPU provider may not take
        try:
            self.session = ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            raise BackendUnavailable(
                f"ONNX Runtime could not load {model_path} on {wanted}: {exc}",
                source="backend",
                fix="delete the file to have it exported again, or use 'eager'",
            ) from exc
        if self.session.get_providers()[0] != wanted:
            raise BackendUnavailable(
                f"{wanted} is not usable here (ONNX Runtime fell back to {self.session.get_providers()[0]})",
                source="backend",
                fix="install the matching CUDA/TensorRT libraries, or use 'onnx-cpu' or 'eager'",
            )

    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        feeds = {
            INPUT_NAMES[0]: np.ascontiguousarray(onehot.detach().float().cpu().numpy()),
            INPUT_NAMES[1]: np.ascontiguousarray(noise.detach().float().cpu().numpy()),
        }
        (image,) = self.session.run([OUTPUT_NAME], feeds)
        return torch.from_numpy(image).to(onehot.device)
