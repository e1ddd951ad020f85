"""``app-train generate`` for ugen weights: a label map, an edge map, a sketch or a depth
map → image, and optionally the proxy mask it went through (``--proxy-out``). ``--style-photo`` takes the
style from a photo inverted into the StyleGAN2 (the paper's exemplar-guided generation)
instead of from the seed's z."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError

if TYPE_CHECKING:  # the module is imported for `app-train --help`, which must not load torch
    import numpy as np

    from engine.inference.ugen_synth import UgenSynthesizer

LINE_FLAGS = {"edges": "--edges", "sketch": "--sketch"}
CONDITION_FLAGS = {**LINE_FLAGS, "depth": "--depth"}  # the image conditions and their files


def add_ugen_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--condition",
        choices=["labels", *CONDITION_FLAGS],
        help="ugen models: what the image is drawn from (default: labels, or the kind of "
        "--edges/--sketch/--depth)",
    )
    for kind, flag in LINE_FLAGS.items():
        p.add_argument(
            flag,
            type=Path,
            help=f"ugen models with a{'n' if kind == 'edges' else ''} {kind} mapper: the {kind} as a line "
            "image of the model's size, black lines on white or white lines on black (the rarer tone is "
            "taken as the lines)",
        )
    p.add_argument(
        "--depth",
        type=Path,
        help="ugen models with a depth mapper: the depth as a greyscale image of the model's size, "
        "black = near, white = far (the sky); 16-bit like the depth/ maps of app-train data landscapes, "
        "or 8-bit",
    )
    p.add_argument("--proxy-out", type=Path, help="ugen models: also write the proxy mask as a colour image")
    p.add_argument(
        "--style-photo",
        type=Path,
        help="ugen models: take the style from this photo (PNG/JPEG, its central square), inverted into "
        "the StyleGAN2 first (about 30 s at 256² on one CPU thread); --seed then seeds the inversion",
    )
    p.add_argument(
        "--invert-steps",
        type=int,
        help="with --style-photo: optimisation steps of the inversion (default 60; more: closer, slower)",
    )


def condition_of(args: argparse.Namespace) -> str:
    """--condition, or the one the given file implies; the file that goes with it must be there."""
    given = [kind for kind in CONDITION_FLAGS if getattr(args, kind) is not None]
    if len(given) > 1:
        raise InputError(
            "pass one condition image", source="--edges/--sketch/--depth", fix="drop all but one"
        )
    condition = args.condition or (given[0] if given else "labels")
    if condition == "labels":
        if given:
            flag = CONDITION_FLAGS[given[0]]
            raise InputError(
                f"--condition labels draws from --labels, not {flag}",
                source=flag,
                fix=f"drop {flag}, or pass --condition {given[0]}",
            )
        if args.labels is None:
            raise InputError("no label map given", source="--labels", fix="pass --labels FILE")
        return condition
    flag = CONDITION_FLAGS[condition]
    if getattr(args, condition) is None:
        what = "depth image" if condition == "depth" else "line image"
        raise InputError(f"--condition {condition} needs the {what}", source=flag, fix=f"pass {flag} FILE")
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
            "--exemplar is for example-guided (MSCA) models; ugen's style is z or an inverted photo",
            source=str(args.weights),
            fix="pass the photo as --style-photo, or drop --exemplar (--seed picks the style)",
        )
    if args.invert_steps is not None and args.style_photo is None:
        raise InputError(
            "--invert-steps sets how long a photo is inverted",
            source="--invert-steps",
            fix="add --style-photo FILE",
        )
    if args.guidance_out is not None:
        raise InputError("ugen models have no guidance image", source="--guidance-out", fix="use --proxy-out")


def run_ugen_generate(args: argparse.Namespace, synth: UgenSynthesizer) -> int:
    from PIL import Image

    from engine.depth_image import read_depth_image
    from engine.labels import read_label_png
    from engine.line_image import read_line_image
    from engine.noise import NoiseField

    condition = condition_of(args)
    refuse_others(args)
    synth.mapper_for(condition)  # before reading anything: says how to train a missing mapper
    side = synth.image_side
    noise = NoiseField.uniform(side, side, seed=args.seed, z_dim=synth.z_dim)
    source: Path = args.labels if condition == "labels" else getattr(args, condition)
    # The map first: a bad file shows before a style photo's inversion, not after it.
    if condition == "labels":
        drawn = read_label_png(source, synth.spec.label_set)
    else:
        drawn = read_depth_image(source) if condition == "depth" else read_line_image(source)
    synth.check_size(*drawn.shape, str(source))
    if args.style_photo is not None:
        _use_style_photo(args, synth)
    start = time.perf_counter()
    if condition == "labels":
        image = synth.generate(drawn, noise, source=str(source))
    else:
        image = synth.generate_condition(condition, drawn, noise, source=str(source))
    synth_ms = (time.perf_counter() - start) * 1000
    style = f"style of {args.style_photo}" if args.style_photo is not None else f"seed {args.seed}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(args.out)
    if args.proxy_out is not None:
        args.proxy_out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(synth.proxy_image()).save(args.proxy_out)
        used = len(set(synth.last_proxy.ravel().tolist())) if synth.last_proxy is not None else 0
        print(f"wrote {args.proxy_out} (proxy mask, {used} of {synth.num_clusters} clusters used)")
    print(
        f"wrote {args.out} ({side}×{side} from the {condition} of {source}, {style}, "
        f"synthesis {synth_ms:.0f} ms, {synth.backend_name} on {synth.device.type})"
    )
    return 0


def _use_style_photo(args: argparse.Namespace, synth: UgenSynthesizer) -> None:
    """Invert --style-photo into the StyleGAN2 and make its w the style of what follows."""
    from engine.inference.ugen_invert import DEFAULT_STEPS, MAX_STEPS, invert_photo

    path: Path = args.style_photo
    steps = DEFAULT_STEPS if args.invert_steps is None else args.invert_steps
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(
            f"{steps} is outside 1–{MAX_STEPS}", source="--invert-steps", fix=f"use e.g. {DEFAULT_STEPS}"
        )
    photo = read_photo(path)
    every = max(1, steps // 5)

    def report(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            print(f"inverting {path.name}: step {done}/{total}", flush=True)

    style = invert_photo(synth, photo, steps, progress=report, seed=args.seed, source=str(path))
    synth.set_style_w(style.w, source=str(path))
    print(
        f"inverted {path} in {style.seconds:.1f} s: distance {style.start_loss:.3f} (mean style) → "
        f"{style.loss:.3f} after {style.steps_done} steps"
    )


def read_photo(path: Path) -> np.ndarray:
    """A photo file as H×W×3 uint8 RGB (camera orientation applied), or an error naming it."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    from engine.limits import check_pixels

    if not path.is_file():
        raise InputError("file not found", source=path, fix="check the path of the photo")
    try:
        with Image.open(path) as raw:
            check_pixels(*raw.size, path)
            raw.load()
            return np.asarray((ImageOps.exif_transpose(raw) or raw).convert("RGB"))
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"cannot read the photo ({exc})", source=path, fix="pass a PNG or JPEG") from exc
