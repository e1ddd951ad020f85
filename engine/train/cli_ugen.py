"""``app-train generate`` for ugen weights: a label map, an edge map or a sketch → image,
and optionally the proxy mask it went through (``--proxy-out``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:  # the module is imported for `app-train --help`, which must not load torch
    from engine.inference.ugen_synth import UgenSynthesizer

LINE_FLAGS = {"edges": "--edges", "sketch": "--sketch"}


def add_ugen_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--condition",
        choices=["labels", "edges", "sketch"],
        help="ugen models: what the image is drawn from (default: labels, or the kind of --edges/--sketch)",
    )
    for kind, flag in LINE_FLAGS.items():
        p.add_argument(
            flag,
            type=Path,
            help=f"ugen models with a{'n' if kind == 'edges' else ''} {kind} mapper: the {kind} as a line "
            "image of the model's size, black lines on white or white lines on black (the rarer tone is "
            "taken as the lines)",
        )
    p.add_argument("--proxy-out", type=Path, help="ugen models: also write the proxy mask as a colour image")


def condition_of(args: argparse.Namespace) -> str:
    """--condition, or the one the given file implies; the file that goes with it must be there."""
    given = [kind for kind in LINE_FLAGS if getattr(args, kind) is not None]
    if len(given) > 1:
        raise InputError("pass one line image", source="--edges/--sketch", fix="drop one of them")
    condition = args.condition or (given[0] if given else "labels")
    if condition == "labels":
        if given:
            flag = LINE_FLAGS[given[0]]
            raise InputError(
                f"--condition labels draws from --labels, not {flag}",
                source=flag,
                fix=f"drop {flag}, or pass --condition {given[0]}",
            )
        if args.labels is None:
            raise InputError("no label map given", source="--labels", fix="pass --labels FILE")
        return condition
    flag = LINE_FLAGS[condition]
    if getattr(args, condition) is None:
        raise InputError(
            f"--condition {condition} needs the line image", source=flag, fix=f"pass {flag} FILE"
        )
    if given != [condition] or args.labels is not None:
        raise InputError(
            f"--condition {condition} draws from {flag} alone", source=flag, fix="drop the other map"
        )
    return condition


def refuse_others(args: argparse.Namespace) -> None:
    """What only other families take."""
    if args.resample:
        raise InputError(
            "ugen's style is one z for the whole image, so one class cannot be re-rolled alone",
            source="--resample",
            fix="drop --resample; another --seed re-rolls the whole style and keeps the layout",
        )
    if args.exemplar or args.exemplar2:
        raise InputError(
            "--exemplar is for example-guided (MSCA) models; ugen draws its style from z",
            source=str(args.weights),
            fix="drop --exemplar; --seed picks the style",
        )
    if args.guidance_out is not None:
        raise InputError("ugen models have no guidance image", source="--guidance-out", fix="use --proxy-out")


def run_ugen_generate(args: argparse.Namespace, synth: UgenSynthesizer) -> int:
    from PIL import Image

    from engine.labels import read_label_png
    from engine.line_image import read_line_image
    from engine.noise import NoiseField

    condition = condition_of(args)
    refuse_others(args)
    synth.mapper_for(condition)  # before reading anything: says how to train a missing mapper
    side = synth.image_side
    noise = NoiseField.uniform(side, side, seed=args.seed, z_dim=synth.z_dim)
    source: Path = args.labels if condition == "labels" else getattr(args, condition)
    start = time.perf_counter()
    if condition == "labels":
        labels = read_label_png(source, synth.spec.label_set)
        synth.check_size(*labels.shape, str(source))
        image = synth.generate(labels, noise, source=str(source))
    else:
        lines = read_line_image(source)
        synth.check_size(*lines.shape, str(source))
        image = synth.generate_lines(condition, lines, noise, source=str(source))
    synth_ms = (time.perf_counter() - start) * 1000
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(args.out)
    if args.proxy_out is not None:
        args.proxy_out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(synth.proxy_image()).save(args.proxy_out)
        used = len(set(synth.last_proxy.ravel().tolist())) if synth.last_proxy is not None else 0
        print(f"wrote {args.proxy_out} (proxy mask, {used} of {synth.num_clusters} clusters used)")
    print(
        f"wrote {args.out} ({side}×{side} from the {condition} of {source}, seed {args.seed}, "
        f"synthesis {synth_ms:.0f} ms, {synth.backend_name} on {synth.device.type})"
    )
    return 0
