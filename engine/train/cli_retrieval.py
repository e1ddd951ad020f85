"""``app-train retrieval``: build a RESAIL segment database, and show a map's guidance image.

app-train retrieval build --data landscapes:data/land256 --out retrieval/
app-train retrieval show --db retrieval/ --labels map.png --out guidance.png
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

GUIDANCE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def add_retrieval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrieval", help="RESAIL segment database: build one, show a map's guidance image")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    b = verbs.add_parser("build", help="decompose a training split into a segment database")
    b.add_argument("--data", required=True, help="dataset as KIND:PATH (e.g. landscapes:data/land256)")
    b.add_argument("--out", type=Path, required=True, help="database folder to write")
    b.add_argument("--split", default="train", help="split to build from (default train)")
    b.add_argument("--grid", type=int, default=32, help="mask grid side, a multiple of 8 (default 32)")
    b.add_argument(
        "--image-side", type=int, default=256, help="longest side of the stored images (default 256)"
    )
    b.add_argument("--quality", type=int, default=50, help="JPEG quality of the stored images (default 50)")
    b.add_argument("--coverage", type=_probability, default=0.9, help="stuff: share of a class kept (0.9)")
    b.add_argument("--min-area", type=int, default=16, help="skip segments under this many pixels (16)")
    b.add_argument("--skip-bad", action="store_true", help="skip and count bad dataset entries")
    s = verbs.add_parser("show", help="retrieve for a label map and write its guidance image")
    s.add_argument("--db", type=Path, required=True, help="database folder")
    s.add_argument(
        "--labels", type=Path, required=True, help="label map: id PNG or colour PNG in the set's palette"
    )
    s.add_argument("--instances", type=Path, help="instance-id PNG (default: each thing region is one)")
    s.add_argument("--out", type=Path, required=True, help="guidance image to write (PNG or JPEG)")
    s.add_argument("--valid-out", type=Path, help="also write the mask of guided pixels (PNG)")
    s.add_argument("--k", type=int, default=10, help="matches kept per segment (default 10)")
    s.add_argument("--threshold", type=float, default=0.15, help="reject σ above this (default 0.15)")


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.data import open_dataset
    from engine.paths import portable
    from engine.retrieval import BuildOptions, build_database, save_database

    options = BuildOptions(args.grid, args.image_side, args.quality, args.coverage, args.min_area)
    dataset = open_dataset(args.data, split=args.split, skip_bad=args.skip_bad)
    bar = tqdm(total=len(dataset), unit="img", file=sys.stderr)
    start = time.perf_counter()
    samples = (dataset[i] for i in range(len(dataset)))
    info = {"command": portable(getattr(args, "command", "app-train retrieval build"))}
    db = build_database(
        samples, dataset.label_set, options, progress=lambda n: bar.update(n - bar.n), info=info
    )
    bar.close()
    folder = save_database(db, args.out)
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    print(
        f"wrote {len(db)} segments of {len(db.sources)} images to {folder} "
        f"({size / 1e6:.2f} MB, {time.perf_counter() - start:.1f} s)"
    )
    return 0


def _check_out(out: Path, flag: str, suffixes: tuple[str, ...]) -> None:
    from engine.errors import InputError

    if out.is_dir():
        raise InputError("is a folder", source=flag, fix="give a file name, e.g. guidance.png")
    if out.suffix.lower() not in suffixes:
        raise InputError(
            f"unknown image type {out.suffix or '(no extension)'!r} in {out}",
            source=flag,
            fix=f"end the name with one of {', '.join(suffixes)}",
        )


def _show(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from engine.data.base import read_instance_png
    from engine.errors import InputError
    from engine.labels import read_label_png
    from engine.retrieval import RetrievalParams, Retriever, load_database

    _check_out(args.out, "--out", GUIDANCE_SUFFIXES)
    if args.valid_out is not None:
        _check_out(args.valid_out, "--valid-out", (".png",))
    try:
        params = RetrievalParams(k=args.k, threshold=args.threshold)
    except ValueError as exc:
        raise InputError(str(exc), source="--k/--threshold", fix="use k >= 1 and threshold >= 0") from exc
    db = load_database(args.db)
    labels = read_label_png(args.labels, db.label_set)
    instances = read_instance_png(args.instances) if args.instances else None
    if instances is not None and instances.shape != labels.shape:
        raise InputError(
            f"the instance map is {instances.shape[1]}×{instances.shape[0]} but the label map "
            f"{labels.shape[1]}×{labels.shape[0]}",
            source=args.instances,
            fix="pass the instance map of this label map",
        )
    retriever = Retriever(db, params)
    update = retriever.update(labels, instances)
    guidance = retriever.guidance()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(guidance.image).save(args.out)
    if args.valid_out is not None:
        Image.fromarray(guidance.valid.astype(np.uint8) * 255).save(args.valid_out)
    matched = sum(1 for m in retriever.matches if len(m))
    print(
        f"{len(update.segments)} segments, {matched} matched (threshold {params.threshold}), "
        f"{guidance.valid.mean():.0%} of the pixels guided; wrote {args.out}"
    )
    return 0


def run_retrieval(args: argparse.Namespace) -> int:
    return _build(args) if args.verb == "build" else _show(args)
