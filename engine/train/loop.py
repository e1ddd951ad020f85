"""The training loop behind ``app-train fit``: one process or many (torchrun + DDP).

The loop is family-agnostic: it owns data, devices, checkpoints, logging, progress
and stopping; the family's training object owns nets, optimisers and the step. It
takes ``on_progress`` and ``should_stop`` callbacks so the studio can drive it too.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from engine.checkpoints import load_weights
from engine.data import SegmentationDataset, TrainTransform, open_dataset
from engine.encoding import default_channel_ids
from engine.errors import InputError
from engine.hardware import cpu_has_native_bf16
from engine.registry import ModelSpec
from engine.train.families import INIT_PARTS, TRAINERS, Training
from engine.train.options import FitOptions
from engine.train.run import RunFolder, RunLogger
from engine.train.sampling import AugmentedDataset, StepBatchSampler

ProgressCallback = Callable[[int, int, dict[str, float]], None]
# A family's hook that adds to every item (RESAIL: the guidance images), run in the workers.
DatasetWrap = Callable[[AugmentedDataset], Dataset]


@dataclass
class Context:
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_context(device: str) -> Context:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise InputError(
            "CUDA was asked for but no GPU is visible", source="--device", fix="use --device cpu"
        )
    dev = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
        # Full-precision matmuls where fp32 is asked for; bf16 autocast is the fast path.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return Context(rank, world, dev)


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    # bf16 pays off on CPUs with native bf16 (AVX512-BF16 / AMX); elsewhere it is slower.
    return "bf16" if cpu_has_native_bf16() else "fp32"


def hardware_summary(device: torch.device, world: int) -> str:
    if device.type == "cuda":
        return f"{world}× {torch.cuda.get_device_name(device)}"
    return f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {world} process(es)"


def build_spec(options: FitOptions, dataset: SegmentationDataset) -> ModelSpec:
    label_set = dataset.label_set
    if options.init_from is not None:
        spec = load_weights(options.init_from, family=options.family, parts=()).spec
        if spec.label_set.to_dict() != label_set.to_dict():
            raise InputError(
                f"the weights use label set '{spec.label_set.name}', the data '{label_set.name}'",
                source=options.init_from,
                fix="train on data of the same label set, or drop --init-from",
            )
        spec.image_size = options.size
        TRAINERS[spec.family].adapt_arch(spec.arch, options)
        return spec
    channel_ids = default_channel_ids(label_set.ids, label_set.dontcare)
    arch = TRAINERS[options.family].build_arch(options, len(channel_ids))
    TRAINERS[options.family].adapt_arch(arch, options)
    return ModelSpec(
        family=options.family,
        label_set=label_set,
        channel_ids=channel_ids,
        dontcare_channel=0 if label_set.dontcare is not None else None,
        image_size=options.size,
        arch=arch,
    )


def _loader(
    dataset: SegmentationDataset,
    options: FitOptions,
    ctx: Context,
    *,
    seed: int,
    start: int,
    stop: int,
    workers: int,
    wrap: DatasetWrap | None = None,
) -> DataLoader:
    transform = TrainTransform(size=options.size, load_size=options.load_size, flip=True)
    sampler = StepBatchSampler(
        num_samples=len(dataset),
        global_batch=options.batch,
        seed=seed,
        rank=ctx.rank,
        world=ctx.world,
        start_step=start,
        stop_step=stop,
    )
    items: Dataset = AugmentedDataset(dataset, transform, seed)
    return DataLoader(
        wrap(items) if wrap is not None else items,
        batch_sampler=sampler,
        num_workers=workers,
        worker_init_fn=_ignore_stop_signals if workers else None,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=False,
    )


def use_fast_layout(training: object, device: torch.device) -> bool:
    """Channels-last nets for the families measured faster with them on CPU (see
    GanTraining.channels_last_on_cpu); what ``fit`` and the training benchmarks both do."""
    if device.type == "cpu" and getattr(training, "channels_last_on_cpu", False):
        training.use_channels_last()  # type: ignore[attr-defined]
        return True
    return False


def _ignore_stop_signals(worker_id: int) -> None:
    """Ctrl+C reaches the whole process group; workers leave stopping to the main process,
    which finishes its step and saves (see _StopSignals). SIGTERM keeps its default: it is
    how the DataLoader ends its workers after an error, and a worker that ignored it
    would keep the run from ever exiting."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _batches(loader: DataLoader, start: int) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
    """(step, batch) pairs; a bad file met by a loader worker ends the run with its own
    message (torch re-raises it wrapped in the worker's whole traceback)."""
    try:
        yield from enumerate(loader, start=start)
    except InputError as exc:
        raise unwrap_worker_error(exc) from None


def unwrap_worker_error(exc: InputError) -> InputError:
    """The original message of an InputError that a DataLoader worker raised."""
    text = str(exc)
    marker = f"{type(exc).__module__}.{type(exc).__qualname__}: "
    if not text.startswith("Caught ") or marker not in text:
        return exc
    original = text.rsplit(marker, 1)[1].strip()
    message, _, fix = original.partition("\nFix: ")
    return type(exc)(message, fix=fix)


def bn_refresh_batches(
    dataset: SegmentationDataset,
    options: FitOptions,
    ctx: Context,
    count: int,
    wrap: DatasetWrap | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """A fixed set of training batches for the EMA BatchNorm refresh (same every time)."""
    single = Context(0, 1, ctx.device)
    yield from _loader(
        dataset, options, single, seed=options.seed + 1, start=0, stop=count, workers=0, wrap=wrap
    )


class _StopSignals:
    """Ctrl+C / SIGTERM finish the current step, save a checkpoint and stop cleanly.

    A half-done step (G updated, D not) would be a state no uninterrupted run passes
    through, so the signal only sets a flag that the loop checks between steps.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:  # a second Ctrl+C means "now"
            raise KeyboardInterrupt
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def fit(
    options: FitOptions,
    *,
    resume: bool = False,
    command: str = "",
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Train until ``options.steps``, the time limit or ``should_stop``; returns the run folder."""
    options.validate()
    ctx = setup_context(options.device)
    options.precision = resolve_precision(options.precision, ctx.device)
    run = RunFolder(options.out)
    if not resume and run.has_checkpoint():
        raise InputError(
            "this run folder already has a checkpoint",
            source=run.path,
            fix="add --resume to continue it, or choose another --out",
        )
    dataset = open_dataset(options.data, split="train", skip_bad=options.skip_bad)
    if ctx.main and getattr(dataset, "skipped", None):
        log(
            f"skipped {len(dataset.skipped)} bad entries "
            f"(first: {dataset.skipped[0][0]}: {dataset.skipped[0][1]})"
        )
    spec = build_spec(options, dataset)
    training: Training = TRAINERS[spec.family](spec, options, ctx.device)

    start, elapsed = 0, 0.0
    if resume:
        state, warnings = run.load_checkpoint(ctx.device)
        for w in warnings:
            log(w)
        training.load_state_dict(state["trainer"])
        start, elapsed = int(state["step"]), float(state["elapsed_s"])
    elif options.init_from is not None:
        required, optional = INIT_PARTS[spec.family]
        training.load_weights(
            load_weights(options.init_from, family=spec.family, parts=required, optional=optional).nets
        )
    if ctx.main:
        run.path.mkdir(parents=True, exist_ok=True)
        # The card must show how the run started, not only its last resume.
        previous = run.read_options() if resume else {}
        run.write_json(
            run.options,
            options.to_dict()
            | {
                "command": previous.get("command", command) if resume else command,
                "resumes": [*previous.get("resumes", []), command] if resume else [],
                "hardware": hardware_summary(ctx.device, ctx.world),
            },
        )
        run.write_json(run.model, spec.to_dict())
    use_fast_layout(training, ctx.device)
    if ctx.world > 1:
        training.wrap_ddp()
    wrap: DatasetWrap | None = getattr(training, "wrap_dataset", None)

    logger = RunLogger(run, ctx.main, training.loss_names, start)
    if ctx.main:
        log(
            f"training {spec.family} on {len(dataset)} images ({spec.label_set.name}), "
            f"{options.size[0]}×{options.size[1]}, batch {options.batch}, {options.precision}, "
            f"{hardware_summary(ctx.device, ctx.world)}; steps {start} → {options.steps}"
        )
        for note in getattr(training, "notes", []):  # e.g. a loss of the paper that is off, and why
            log(note)
    sample_batch = next(
        iter(
            _loader(
                dataset,
                options,
                Context(0, 1, ctx.device),
                seed=options.seed,
                start=0,
                stop=1,
                workers=0,
                wrap=wrap,
            )
        )
    )

    def save(step: int) -> None:
        if ctx.main:
            run.save_checkpoint(
                {
                    "step": step,
                    "elapsed_s": elapsed + time.monotonic() - t0,
                    "trainer": training.state_dict(),
                    "options": options.to_dict(),
                }
            )
        if ctx.world > 1:
            dist.barrier()

    loader = _loader(
        dataset,
        options,
        ctx,
        seed=options.seed,
        start=start,
        stop=options.steps,
        workers=options.workers,
        wrap=wrap,
    )
    bar = tqdm(
        total=options.steps,
        initial=start,
        unit="step",
        disable=not ctx.main,
        dynamic_ncols=True,
        file=sys.stderr,
    )
    t0 = time.monotonic()
    last_t, last_step, step = t0, start, start
    interrupted = _StopSignals()
    try:
        for step, batch in _batches(loader, start):
            metrics = training.step(batch, step, ctx.rank)
            done = step + 1
            bar.update(1)
            bar.set_postfix({k.removeprefix("loss_"): f"{v:.3f}" for k, v in metrics.items()})
            if done % options.log_every == 0 or done == options.steps:
                now = time.monotonic()
                rate = (done - last_step) * options.batch / max(now - last_t, 1e-9)
                last_t, last_step = now, done
                logger.log(done, metrics | {"elapsed_s": elapsed + now - t0, "images_per_s": rate})
            if ctx.main and done % options.sample_every == 0:
                grid = training.sample_grid(
                    sample_batch, bn_refresh_batches(dataset, options, ctx, options.ema_bn_batches, wrap)
                )
                logger.image(done, grid)
            stop = interrupted.requested or (should_stop() if should_stop else False)
            if options.time_limit is not None:
                stop = stop or (time.monotonic() - t0) / 60 >= options.time_limit
            if ctx.world > 1:  # every rank must stop at the same step
                flag = torch.tensor([float(stop)], device=ctx.device)
                dist.all_reduce(flag)
                stop = bool(flag.item() > 0)
            if done % options.ckpt_every == 0 or done == options.steps or stop:
                save(done)
            if on_progress:
                on_progress(done, options.steps, metrics)
            if stop:
                if ctx.main:
                    log(f"stopped at step {done}; continue with --resume")
                break
    finally:
        interrupted.restore()
        bar.close()
        logger.close()
    return run.path
