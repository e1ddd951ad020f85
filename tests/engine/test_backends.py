"""Inference backends: ONNX Runtime and bf16 against eager fp32, `export --onnx`, and auto."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoints import load_weights, save_state_dict, save_weights
from engine.encoding import default_channel_ids
from engine.errors import InputError, WeightsError
from engine.inference.backends import auto
from engine.inference.backends.base import (
    BackendUnavailable,
    Inputs,
    example_inputs,
    example_scene,
    max_abs_diff,
    run_on,
    weights_hash,
)
from engine.inference.backends.names import BF16_TOLERANCE, FP32_TOLERANCE
from engine.inference.backends.onnx_folder import verify_folder_onnx
from engine.inference.backends.onnx_runtime import FOLDER_FILE, OnnxRuntime, onnx_model_for, stamped_hash
from engine.inference.backends.torch_backends import TorchBF16, TorchEager
from engine.inference.synthesizer import Synthesizer
from engine.labels import LabelSet
from engine.networks.blocks import init_official
from engine.networks.oasis import OasisConfig
from engine.noise import NoiseField
from engine.registry import ModelSpec
from engine.train.cli import main
from engine.train.ema import refreshed_copy

SIZES = [(64, 64), (64, 160)]  # the export is traced at 64×96: both differ, one is non-square


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user cache per test, and no choices remembered in memory from other tests."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TESSERA_CACHE", str(cache))
    auto.forget_in_memory()
    yield cache
    auto.forget_in_memory()


def _calibrated(folder: Path) -> Path:
    """A small random OASIS (channels_G 8) with BatchNorm statistics estimated on random layouts.

    Straight from random init every pixel saturates at ±1, so any two backends agree
    trivially. With estimated statistics the image is tiny (the init gain is 0.02), so the
    last conv is scaled to give the image some spread (std 0.05–0.17 on these inputs).
    Random nets are far more sensitive to rounding than trained ones; at this spread bf16
    differs by at most ≈ 0.018 here, like the trained landscapes model (0.014–0.023).
    """
    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    spec = ModelSpec(
        family="oasis",
        label_set=label_set,
        channel_ids=ids,
        dontcare_channel=None,
        image_size=(64, 64),
        arch=OasisConfig.small(len(ids), channels_g=8),
        training={"steps": 0, "command": "tests/engine/test_backends.py"},
    )
    torch.manual_seed(0)
    generator = spec.build("generator")
    init_official(generator)
    cfg = spec.arch.generator
    batches = [example_inputs(cfg.semantic_nc, cfg.z_dim, 64, 64, seed=s) for s in range(3)]
    generator = refreshed_copy(generator, batches)
    with torch.no_grad():
        generator.conv_img.weight *= 0.05 / generator(*batches[0]).std()  # tanh is nearly linear there
    return save_weights(folder, spec, {"generator": generator.state_dict()}, "# backend tests\n")


@pytest.fixture(scope="module")
def model_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _calibrated(tmp_path_factory.mktemp("weights") / "landscapes-tiny")


@pytest.fixture
def model(model_template: Path, tmp_path: Path) -> Path:
    """A private copy: tests write generator.onnx into it or tamper with it."""
    folder = tmp_path / "landscapes-tiny"
    folder.mkdir()
    for f in model_template.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


def _auto(model: Path) -> Synthesizer:
    return Synthesizer(load_weights(model), backend="auto", auto_runs=1)  # one timed run: keep tests short


def _scene(synth: Synthesizer, h: int, w: int) -> tuple[np.ndarray, NoiseField]:
    ids = np.asarray(synth.spec.channel_ids[1:], np.uint16)
    rng = np.random.default_rng(h * w)
    labels = np.kron(rng.choice(ids, (h // 16, w // 16)), np.ones((16, 16), np.uint16))
    return labels, NoiseField.uniform(h, w, seed=3, z_dim=synth.z_dim)


def test_onnx_runtime_matches_eager_at_two_sizes(model: Path, user_cache: Path) -> None:
    synth = Synthesizer.from_folder(model)
    gen, cfg = synth.generator, synth.generator.config
    runtime = OnnxRuntime(onnx_model_for(gen, synth.weights_hash), "cpu")
    for h, w in SIZES:
        onehot, noise = example_inputs(cfg.semantic_nc, cfg.z_dim, h, w, seed=h + w)
        ref = TorchEager(gen).run(onehot, noise)
        assert ref.std() > 0.02 and (ref.abs() > 0.99).float().mean() < 0.01, "it must not saturate"
        out = runtime.run(onehot, noise)
        assert out.shape == (1, 3, h, w)
        assert max_abs_diff(out, ref) <= FP32_TOLERANCE
    # Exported once into the user cache, stamped with the weights digest; never into the repo.
    (exported,) = (user_cache / "onnx").glob("*.onnx")
    assert stamped_hash(exported) == synth.weights_hash
    assert onnx_model_for(gen, synth.weights_hash) == exported


def test_onnx_synthesizer_generates_the_eager_image(model: Path) -> None:
    eager, onnx = Synthesizer.from_folder(model), Synthesizer.from_folder(model, backend="onnx")
    assert onnx.backend_name == "onnxruntime-cpu fp32" and eager.backend_name == "torch-eager fp32"
    labels, noise = _scene(eager, 64, 160)
    diff = np.abs(onnx.generate(labels, noise).astype(int) - eager.generate(labels, noise).astype(int))
    assert diff.max() <= 1  # 1e-4 on [-1, 1] may still flip a rounding to uint8


def test_forced_bf16_stays_within_tolerance(model: Path) -> None:
    # This test forces bf16 whether or not the CPU has native bf16 (auto would skip it there).
    synth = Synthesizer.from_folder(model, backend="bf16")
    assert synth.backend_name == "torch-bf16 autocast channels_last"
    cfg = synth.generator.config
    bf16 = TorchBF16(synth.generator, torch.device("cpu"))
    for h, w in SIZES:
        onehot, noise = example_inputs(cfg.semantic_nc, cfg.z_dim, h, w, seed=1)
        out = bf16.run(onehot, noise)
        assert out.dtype == torch.float32
        assert max_abs_diff(out, TorchEager(synth.generator).run(onehot, noise)) <= BF16_TOLERANCE
    # Its own channels_last copy: the eager reference is untouched.
    assert synth.generator.fc.weight.is_contiguous()


def test_export_onnx_writes_a_checked_file_used_by_the_synthesizer(
    model: Path, user_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--onnx", "--out", str(model)]) == 0
    assert "max abs diff to eager" in capsys.readouterr().out
    path = model / FOLDER_FILE
    assert path.is_file() and not list(model.glob(".*unchecked"))
    synth = Synthesizer.from_folder(model, backend="onnx")
    assert stamped_hash(path) == synth.weights_hash
    assert not (user_cache / "onnx").exists(), "the folder's own export is used, none is made"
    assert max(verify_folder_onnx(model)) <= FP32_TOLERANCE


def test_parity_check_fails_loudly_on_tampered_weights(model: Path) -> None:
    assert main(["export", "--onnx", "--out", str(model)]) == 0
    loaded = load_weights(model)
    state = loaded.nets["generator"].state_dict()
    state["conv_img.weight"] = state["conv_img.weight"] * 1.5
    save_state_dict(model / "generator.safetensors", state)
    with pytest.raises(WeightsError, match=r"does not match generator\.safetensors") as err:
        verify_folder_onnx(model)
    assert str(model / FOLDER_FILE) in str(err.value) and "other weights" in str(err.value)
    assert "app-train export --onnx" in err.value.fix
    # The synthesizer does not use the stale file: it exports the new weights to the cache.
    synth = Synthesizer.from_folder(model, backend="onnx")
    assert onnx_model_for(synth.generator, synth.weights_hash, model) != model / FOLDER_FILE


def test_export_refuses_an_onnx_file_that_differs(
    model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.inference.backends import onnx_folder

    real_export = onnx_folder.export_generator

    def export_wrong(generator: torch.nn.Module, path: Path, *, weights_hash: str) -> Path:
        with torch.no_grad():
            generator.conv_img.bias += 0.05  # what a broken exporter or runtime would do
        return real_export(generator, path, weights_hash=weights_hash)

    monkeypatch.setattr(onnx_folder, "export_generator", export_wrong)
    assert main(["export", "--onnx", "--out", str(model)]) == 2
    err = capsys.readouterr().err
    assert "generator.onnx does not match generator.safetensors" in err and "Fix:" in err
    assert not (model / FOLDER_FILE).exists() and not list(model.glob(".*unchecked"))


def test_export_without_run_or_onnx_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "--out", str(tmp_path / "w")]) == 2
    assert "--run" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["gather", "gather-bf16"])
def test_gather_backends_match_eager(model: Path, name: str) -> None:
    eager, gather = Synthesizer.from_folder(model), Synthesizer.from_folder(model, backend=name)
    assert gather.backend_name.startswith("torch gather")
    tolerance = BF16_TOLERANCE if "bf16" in name else FP32_TOLERANCE
    for h, w in SIZES:
        labels, noise = _scene(eager, h, w)
        noise.resample(labels == labels[0, 0], seed=9)  # two noise regions
        inputs = gather.inputs(labels, noise)
        assert inputs._dense is None  # token backends never build the dense maps
        out = run_on(gather.backend_for(name), inputs)
        assert max_abs_diff(out, TorchEager(eager.generator).run(*inputs.dense)) <= tolerance
    # Dense inputs (no tokens) take the same network's dense path.
    scene = example_scene(eager.generator.config.semantic_nc, eager.z_dim, 32, 64)
    dense = Inputs(dense=scene.dense)
    out = run_on(gather.backend_for(name), dense)
    assert max_abs_diff(out, run_on(gather.backend_for(name), scene)) <= tolerance


def test_auto_picks_a_backend_that_passes_and_reports_timings(model: Path, user_cache: Path) -> None:
    synth = _auto(model)
    assert synth.backend_report is None and synth.backend_name.startswith("auto")
    labels, noise = _scene(synth, 64, 96)
    image = synth.generate(labels, noise)
    report = synth.backend_report
    assert report["height"] == 64 and report["width"] == 96 and not report["cached"]
    by_name = {m["backend"]: m for m in report["measurements"]}
    assert {"eager", "gather", "onnx-cpu"} <= set(by_name)
    chosen = by_name[report["backend"]]
    assert chosen["passed"] and chosen["max_abs_diff"] <= chosen["tolerance"]
    assert all(m["p50_ms"] > 0 and len(m["times_ms"]) == 1 for m in report["measurements"] if m["passed"])
    assert synth.backend_name == f"{report['description']} (auto)"
    assert synth.last_decision.summary().endswith(f"→ {report['backend']}")
    eager = Synthesizer.from_folder(model).generate(labels, noise).astype(int)
    assert np.abs(image.astype(int) - eager).max() <= (4 if "bf16" in report["backend"] else 1)

    # Remembered: in memory, then on disk for the next process; another size measures again.
    again = _auto(model)
    again.generate(labels, noise)
    assert again.backend_report["cached"] and again.backend_report["backend"] == report["backend"]
    auto.forget_in_memory()
    saved = json.loads((user_cache / auto.CACHE_FILE).read_text())
    assert len(saved["choices"]) == 1
    third = _auto(model)
    third.generate(labels, noise)
    assert third.backend_report["cached"]
    third.generate(*_scene(third, 64, 64))
    assert not third.backend_report["cached"] and third.backend_report["width"] == 64


class _Canned:
    """A backend that answers instantly with a fixed image: fast, and right or wrong."""

    description, tolerance = "canned", FP32_TOLERANCE

    def __init__(self, name: str, image: torch.Tensor) -> None:
        self.name, self.image = name, image

    def run(self, onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.image


def test_auto_never_picks_a_fast_backend_that_fails_parity(model: Path) -> None:
    gen = Synthesizer.from_folder(model).generator
    onehot, noise = example_inputs(gen.config.semantic_nc, gen.config.z_dim, 64, 64)
    eager = TorchEager(gen)
    right = eager.run(onehot, noise)

    def broken() -> _Canned:
        raise BackendUnavailable("no such library", source="backend")

    builders = {
        "eager": lambda: eager,
        "onnx-cpu": lambda: _Canned("onnx-cpu", right + 1e-3),
        "onnx-cuda": broken,
    }
    chosen, measurements, out = auto.measure(builders, Inputs(dense=(onehot, noise)), runs=2)
    assert chosen == "eager" and torch.equal(out, right)
    wrong, failed = measurements[1], measurements[2]
    assert not wrong.passed and wrong.max_abs_diff == pytest.approx(1e-3, rel=1e-3) and wrong.p50_ms is None
    assert not failed.passed and "no such library" in failed.error
    builders["onnx-cpu"] = lambda: _Canned("onnx-cpu", right + 1e-6)
    assert auto.measure(builders, Inputs(dense=(onehot, noise)), runs=2)[0] == "onnx-cpu"


def test_generate_from_a_worker_thread_while_the_gui_thread_reads(model: Path) -> None:
    synth = _auto(model)
    labels, noise = _scene(synth, 64, 64)
    results, errors = [], []

    def work() -> None:
        try:
            results.extend(synth.generate(labels, noise) for _ in range(3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        assert isinstance(synth.backend_name, str)
        _ = synth.backend_report
        worker.join(0.005)
    assert not errors and len(results) == 3


def test_bad_backend_choices_name_the_option(model: Path) -> None:
    loaded = load_weights(model)
    with pytest.raises(InputError, match="unknown backend 'fast'") as err:
        Synthesizer(loaded, backend="fast")
    assert err.value.source == "backend" and "auto" in err.value.fix
    with pytest.raises(BackendUnavailable, match="needs a CUDA device"):
        Synthesizer(loaded, backend="onnx-cuda")


def test_generate_cli_with_a_backend(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth = Synthesizer.from_folder(model)
    labels, _ = _scene(synth, 64, 96)
    Image.fromarray(labels.astype(np.uint8), mode="L").save(tmp_path / "map.png")
    args = ["generate", "--weights", str(model), "--labels", str(tmp_path / "map.png"), "--out"]
    assert main([*args, str(tmp_path / "onnx.png"), "--backend", "onnx"]) == 0
    assert "onnxruntime-cpu fp32" in capsys.readouterr().out
    assert main([*args, str(tmp_path / "eager.png")]) == 0
    a, b = (np.asarray(Image.open(tmp_path / f"{n}.png")).astype(int) for n in ("onnx", "eager"))
    assert np.abs(a - b).max() <= 1


def test_weights_hash_follows_the_values(model: Path) -> None:
    gen = Synthesizer.from_folder(model).generator
    digest = weights_hash(gen)
    assert digest == weights_hash(Synthesizer.from_folder(model).generator)
    with torch.no_grad():
        gen.conv_img.bias[0] += 1e-6
    assert weights_hash(gen) != digest


def test_an_unwritable_cache_is_a_clear_error(model: Path, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TESSERA_CACHE", str(blocker))
    with pytest.raises(BackendUnavailable, match="cannot write the ONNX export") as err:
        Synthesizer.from_folder(model, backend="onnx")
    assert "TESSERA_CACHE" in err.value.fix
