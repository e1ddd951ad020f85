"""ugen in the studio's loop: one brush stroke → label mapper → proxy mask → rearranger → G₂.

Measured on one thread, for a ugen folder built on the fly with **random weights** — a
StyleGAN2 of widths ≤ 128 at 256² and the paper's widths for the rearranger (attention
256, hidden 256, two 4-layer blocks) and the label mapper (OASIS channels 64) — and for
every ugen folder in weights/ (or --weights); tiny random nets at 64² in smoke runs.

On test-split landscapes scenes: "first" is the first image of a map with a new z (G₁,
keys and values, every net in full); then 16-px discs of random classes are painted on,
each timed through ``UgenSynthesizer.generate`` (the label mapper and the rest recompute
only what the stroke reaches). A random mapper's proxy mask changes farther from a stroke
than a trained one's, so its strokes are a pessimistic case: ``proxy_change_share`` says
how much of the proxy grid the strokes changed on average. "proxy edit" paints 4-cell
discs on the proxy mask itself (the paper's free-form manipulation), which isolates the
rearranger and G₂ from the mapper. "plain" is the reference path (every net in full per
call). Rows for fp32 and, on CPUs with native bf16, for bf16.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.retrieval import _disc, _samples
from benchmarks.settings import Settings
from benchmarks.timing import percentiles

PAPER_NOTE = "random weights: StyleGAN2 widths ≤ 128, paper-width rearranger and label mapper"


def write_random_ugen(folder: Path, *, small: bool) -> Path:
    """A random-weights StyleGAN2 (``folder``/sg2) and a ugen folder naming it (``folder``/ugen):
    tiny nets at 64² when ``small``, else the benchmark's 256² sizes (see the module doc)."""
    from engine.checkpoints import save_weights
    from engine.encoding import default_channel_ids
    from engine.labels import LabelSet
    from engine.networks.rearranger import RearrangerConfig
    from engine.networks.semantic_mapper import LabelMapperConfig
    from engine.networks.stylegan2 import StyleGan2Config, StyleGan2GeneratorConfig
    from engine.networks.ugen import UgenConfig
    from engine.registry import ModelSpec

    if (folder / "ugen" / "config.json").is_file():
        return folder / "ugen"
    label_set = LabelSet.builtin("landscapes")
    ids = default_channel_ids(label_set.ids, label_set.dontcare)
    side = 64 if small else 256
    sg = (
        StyleGan2Config.small(side)
        if small
        else StyleGan2Config(StyleGan2GeneratorConfig(side, channel_max=128))
    )
    training = {"command": "python -m benchmarks (random weights)"}
    sg_spec = ModelSpec("stylegan2", label_set, ids, 0, (side, side), sg, training=training)
    torch.manual_seed(0)
    save_weights(
        folder / "sg2", sg_spec, {"generator": sg_spec.build("generator").state_dict()}, "# random\n"
    )
    proxy, k = side // 4, 6 if small else 25
    channels = sg.generator.channels(proxy)
    arch = UgenConfig(
        stylegan2="sg2",
        image_resolution=side,
        proxy_resolution=proxy,
        feature_channels=channels,
        semantic_nc=len(ids),
        num_clusters=k,
        rearranger=RearrangerConfig.small(channels, k) if small else RearrangerConfig(channels, k),
        label_mapper=LabelMapperConfig.small(len(ids), k) if small else LabelMapperConfig(len(ids), k),
    )
    spec = ModelSpec("ugen", label_set, ids, 0, (side, side), arch, training=training)
    states = {"rearranger": spec.build("rearranger").state_dict(), "mapper_labels": _mapper_state(spec, side)}
    centroids = torch.nn.functional.normalize(torch.randn(k, channels), dim=1)  # unused by the timed path
    states["proxy"] = {"centroids": centroids}
    return save_weights(folder / "ugen", spec, states, "# random ugen for the benchmarks\n")


def _mapper_state(spec: object, side: int) -> dict:
    """A random label mapper with BatchNorm statistics estimated on rendered scenes, so its
    activations keep a trained net's scale (the defaults, mean 0 and variance 1, let them grow
    ~10⁹-fold over the blocks). Its proxy masks still change far from a stroke: their argmax
    follows logits that the coarse levels move everywhere."""
    mapper = spec.build("mapper_labels")
    for module in mapper.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # a plain average over the batches below
    r = spec.arch.proxy_resolution
    mapper.train()
    with torch.no_grad():
        for sample in _samples(range(100, 104), (side, side)):
            mapper(spec.encoder.onehot(sample.labels), (r, r))
    return mapper.eval().state_dict()


def _strokes(synth: object, settings: Settings, side: int) -> dict:
    """First image, stroke and proxy-edit timings of one synthesizer on rendered scenes."""
    from engine.noise import NoiseField

    rng = np.random.default_rng(0)
    classes = list(synth.spec.label_set.ids)
    queries = list(_samples([s for s in range(settings.pick(60, 30, 10)) if s % 10 == 9], (side, side)))
    first, strokes, edits, share = [], [], [], []
    r = synth.proxy_resolution
    for n, q in enumerate(queries):
        labels, instances = q.labels.copy(), q.instances.copy()
        noise = NoiseField.uniform(side, side, seed=n, z_dim=synth.z_dim)  # a new z per map
        t = time.perf_counter()
        synth.generate(labels, noise)
        first.append((time.perf_counter() - t) * 1000)
        for _ in range(settings.pick(10, 5, 2)):
            before = synth.last_proxy.copy()
            _disc(labels, instances, rng, classes, frozenset())
            t = time.perf_counter()
            synth.generate(labels, noise)
            strokes.append((time.perf_counter() - t) * 1000)
            share.append(float(np.mean(before != synth.last_proxy)))
        proxy = synth.last_proxy.copy()
        yy, xx = np.ogrid[:r, :r]
        for _ in range(settings.pick(5, 3, 1)):
            cy, cx = rng.integers(0, r, 2)
            proxy[(yy - cy) ** 2 + (xx - cx) ** 2 <= 4] = int(rng.integers(synth.num_clusters))
            t = time.perf_counter()
            synth.generate_proxy(proxy, noise)
            edits.append((time.perf_counter() - t) * 1000)
    return {"first": first, "strokes": strokes, "edits": edits, "share": float(np.mean(share))}


def _plain(folder: Path, settings: Settings, side: int) -> dict:
    from engine.inference.ugen_synth import UgenSynthesizer
    from engine.noise import NoiseField

    synth = UgenSynthesizer.from_folder(folder)
    synth.fast = False
    labels = next(_samples([9], (side, side))).labels
    times = []
    for seed in range(settings.pick(3, 2, 1) + 1):  # the first run warms up
        t = time.perf_counter()
        synth.generate(labels, NoiseField.uniform(side, side, seed=seed, z_dim=synth.z_dim))
        times.append((time.perf_counter() - t) * 1000)
    return percentiles(times[1:])


def bench_ugen(settings: Settings) -> list[dict]:
    from engine.inference.backends.torch_backends import bf16_sensible
    from engine.inference.ugen_synth import UgenSynthesizer

    torch.set_num_threads(1)
    assert settings.scratch is not None
    built = write_random_ugen(settings.scratch / "ugen-bench", small=settings.smoke)
    folders = [(built, "random weights: tiny nets (smoke)" if settings.smoke else PAPER_NOTE)]
    if not settings.smoke:
        folders += [(f, "trained weights") for f in settings.folders("ugen")]
    rows = []
    for folder, note in folders:
        side = UgenSynthesizer.from_folder(folder).image_side
        common = {"family": "ugen", "weights": note if folder == built else folder.name,
                  "size": f"{side}x{side}"}  # fmt: skip
        plain = _plain(folder, settings, side)
        rows.append({"name": "ugen_plain_image", **common, "backend": "torch-eager fp32, 1 thread", **plain})
        backends = ["eager", *(["bf16"] if bf16_sensible(torch.device("cpu")) else [])]
        for backend in backends:
            synth = UgenSynthesizer.from_folder(folder, backend=backend)
            got = _strokes(synth, settings, side)
            label = {"backend": f"{synth.backend_name}, 1 thread"}
            stroke = percentiles(got["strokes"])
            rows += [
                {"name": "ugen_first_image", **common, **label, **percentiles(got["first"])},
                {"name": "ugen_stroke_to_image", **common, **label, **stroke, "budget_p50_ms": 150,
                 "proxy_change_share": round(got["share"], 4),
                 "speedup_vs_plain_p50": round(plain["p50_ms"] / max(stroke["p50_ms"], 1e-3), 1)},
                {"name": "ugen_proxy_edit_to_image", **common, **label, **percentiles(got["edits"])},
            ]  # fmt: skip
    return rows
