"""``app-train generate`` and ``app-train segment``: label map → image, photo → label map."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.inference.backends.names import CHOICES
from engine.train.cli_args import IMAGE_SUFFIXES, seed_value
from engine.train.cli_ugen import CONDITION_FLAGS, add_ugen_flags


def add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="synthesise an image from a label map (ugen: or edges, a sketch, a depth map)"
    )
    p.add_argument("--weights", type=Path, required=True, help="weights folder")
    p.add_argument(
        "--labels",
        type=Path,
        help="label map: id PNG or colour PNG in the set's palette (required but for ugen "
        "--edges/--sketch/--depth)",
    )
    p.add_argument("--out", type=Path, required=True, help="image to write (PNG or JPEG)")
    p.add_argument("--seed", type=seed_value, default=0, help="noise seed of the whole scene")
    p.add_argument("--resample", metavar="CLASS_NAME", help="re-roll the noise of this class only")
    p.add_argument("--resample-seed", type=seed_value, default=1, help="seed for --resample")
    p.add_argument(
        "--exemplar",
        help="example-guided (MSCA) models: the style's photo, or a gallery name (noon, sunset, …); "
        "a photo is segmented by the label set's segmenter in weights/",
    )
    p.add_argument("--exemplar2", help="a second style (photo or gallery name), blended by --mix")
    p.add_argument("--mix", type=float, default=0.5, help="with --exemplar2: weight of the first style (0–1)")
    p.add_argument(
        "--guidance-out",
        type=Path,
        help="RESAIL models: also write the guidance image composed from the retrieved segments",
    )
    add_ugen_flags(p)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--backend",
        default="eager",
        choices=CHOICES,
        help="eager (fp32 reference, default), bf16, onnx, … or auto (measure once, pick the fastest "
        "that matches eager)",
    )


def run_generate(args: argparse.Namespace) -> int:
    from PIL import Image

    from engine.errors import InputError
    from engine.inference.open import open_synthesizer
    from engine.labels import read_label_png
    from engine.noise import NoiseField

    inputs = {
        "label map": args.labels,
        "edge map": args.edges,
        "sketch": args.sketch,
        "depth map": args.depth,
        "style photo": args.style_photo,
    }
    for out in (args.out, args.guidance_out, args.proxy_out):
        if out is not None:
            _check_image_out(out, inputs)
    synth = open_synthesizer(args.weights, device=args.device, backend=args.backend)
    if synth.family == "ugen":
        from engine.train.cli_ugen import run_ugen_generate

        return run_ugen_generate(args, synth)
    _refuse_ugen_flags(args, synth.spec.family)
    if args.guidance_out is not None and not hasattr(synth, "last_guidance"):
        raise InputError(
            f"'{synth.spec.family}' models have no guidance image",
            source="--guidance-out",
            fix="drop --guidance-out, or pass RESAIL weights",
        )
    labels = read_label_png(args.labels, synth.spec.label_set)
    h, w = labels.shape
    synth.check_size(h, w, str(args.labels))
    noise = NoiseField.uniform(h, w, seed=args.seed, z_dim=synth.z_dim)
    if args.resample:
        cls = synth.spec.label_set.by_name(args.resample)
        mask = labels == cls.id
        if not mask.any():
            raise InputError(
                f"class '{cls.name}' does not occur in the label map",
                source=args.labels,
                fix="name a class that is painted in the map",
            )
        noise.resample(mask, args.resample_seed)
    import time

    start = time.perf_counter()
    style = _style_mix(args, synth)
    if style is not None:
        image = synth.generate(labels, style)
    else:
        image = synth.generate(labels, noise, source=str(args.labels))
    synth_ms = (time.perf_counter() - start) * 1000
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(args.out)
    guidance = getattr(synth, "last_guidance", None)
    if args.guidance_out is not None and guidance is not None:
        args.guidance_out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(guidance.image).save(args.guidance_out)
        print(f"wrote {args.guidance_out} ({guidance.valid.mean():.0%} of the pixels guided)")
    if synth.last_decision is not None:
        print(f"backend auto at {w}×{h}: {synth.last_decision.summary()}")
    where = f"{synth.backend_name} on {synth.device.type}"
    print(f"wrote {args.out} ({w}×{h}, synthesis {synth_ms:.0f} ms, {where})")
    return 0


def _refuse_ugen_flags(args: argparse.Namespace, family: str) -> None:
    """--condition, --edges, --sketch, --depth, --proxy-out, --style-photo and --invert-steps are ugen's;
    the others draw from --labels."""
    from engine.errors import InputError

    for flag, value in (("--style-photo", args.style_photo), ("--invert-steps", args.invert_steps)):
        if value is not None:
            raise InputError(
                f"'{family}' models take no style from an inverted photo (ugen models do)",
                source=flag,
                fix=f"drop {flag}; for a photo's look use --exemplar with MSCA weights",
            )
    flags = {"--condition": args.condition, "--proxy-out": args.proxy_out}
    flags.update({flag: getattr(args, kind) for kind, flag in CONDITION_FLAGS.items()})
    for flag, value in flags.items():
        if value is not None:
            raise InputError(
                f"'{family}' models draw from a label map only",
                source=flag,
                fix=f"drop {flag}, or pass ugen weights",
            )
    if args.labels is None:
        raise InputError("no label map given", source="--labels", fix="pass --labels FILE")


def _check_image_out(out: Path, inputs: dict[str, Path | None]) -> None:
    """Before any synthesis: --out must be a new image file, never an input map."""
    from engine.errors import InputError

    if out.is_dir():
        raise InputError("is a folder", source=out, fix="give a file name, e.g. out.png")
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(
            f"unknown image type {out.suffix or '(no extension)'!r}",
            source=out,
            fix=f"end the name with one of {', '.join(IMAGE_SUFFIXES)}",
        )
    for name, source in inputs.items():
        if source is not None and out.exists() and source.exists() and out.resolve() == source.resolve():
            raise InputError(
                f"is the input {name}: it would be overwritten", source=out, fix="write to another file"
            )


def _style_mix(args: argparse.Namespace, synth: object) -> object | None:
    """The StyleMix of --exemplar/--exemplar2/--mix for MSCA weights; None for the others."""
    from engine.errors import InputError
    from engine.inference.msca_synth import MscaSynthesizer, StyleMix

    if not isinstance(synth, MscaSynthesizer):
        if args.exemplar or args.exemplar2:
            raise InputError(
                "--exemplar is for example-guided (MSCA) models; these weights draw their look from noise",
                source=str(args.weights),
                fix="drop --exemplar, or pass MSCA weights such as weights/landscapes-msca",
            )
        return None
    if not args.exemplar:
        raise InputError(
            "this example-guided model takes its look from an exemplar",
            source=str(args.weights),
            fix="add --exemplar PHOTO or a gallery name, e.g. --exemplar sunset",
        )
    if not 0 <= args.mix <= 1:
        raise InputError(f"{args.mix} is outside 0–1", source="--mix", fix="use e.g. 0.5")
    first = _exemplar(args.exemplar, synth.spec.label_set)
    second = _exemplar(args.exemplar2, synth.spec.label_set) if args.exemplar2 else None
    return StyleMix(first, second, args.mix if second is not None else 1.0)


def _exemplar(text: str, label_set: object) -> object:
    """A gallery exemplar by name, or a photo file segmented by a segmenter of the label set."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from engine.errors import InputError
    from engine.inference.gallery import gallery_exemplar
    from engine.inference.msca_synth import Exemplar
    from engine.inference.photo_style import PhotoSegmenter, find_segmenter
    from engine.limits import check_pixels
    from engine.paths import WEIGHTS

    path = Path(text)
    if not path.is_file():
        if path.suffix or "/" in text:
            raise InputError("file not found", source=text, fix="check the path, or give a gallery name")
        return gallery_exemplar(text, label_set)
    try:
        with Image.open(path) as im:
            check_pixels(*im.size, path)
            photo = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InputError(f"cannot read the photo ({exc})", source=path, fix="pass a PNG or JPEG") from exc
    folder = find_segmenter([WEIGHTS], label_set)
    if folder is None:
        raise InputError(
            f"a photo exemplar needs a segmenter for '{label_set.name}' to find its classes",
            source=path,
            fix="train one (app-train fit --family segmenter) into weights/, or use a gallery name",
        )
    return Exemplar(photo, PhotoSegmenter(folder).segment(photo), path.name)


def add_segment(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help="turn a photo into a label map with the OASIS discriminator")
    p.add_argument(
        "--weights", type=Path, required=True, help="weights folder with discriminator.safetensors"
    )
    p.add_argument("--image", type=Path, required=True, help="photo (PNG/JPEG)")
    p.add_argument("--out", type=Path, required=True, help="label map PNG to write (ids)")
    p.add_argument("--color", action="store_true", help="write the set's colours instead of ids")
    p.add_argument("--device", default="cpu")


def run_segment(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from engine.errors import InputError
    from engine.inference.synthesizer import Synthesizer
    from engine.labels import write_label_png
    from engine.limits import check_pixels

    synth = Synthesizer.from_folder(args.weights, device=args.device, segmenter=True)
    try:
        with Image.open(args.image) as im:
            check_pixels(*im.size, args.image)
            photo = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(
            f"cannot read the photo ({exc})", source=args.image, fix="pass a PNG or JPEG"
        ) from exc
    labels = synth.segment(photo)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.color:
        Image.fromarray(synth.spec.label_set.colorize(labels)).save(args.out)
    else:
        write_label_png(args.out, labels)
    print(f"wrote {args.out}")
    return 0
