"""Typed options of ``app-train fit``, with range checks that name the flag."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InputError


def parse_size(text: str, flag: str = "--size") -> tuple[int, int]:
    """ "256" → (256, 256); "256x512" → (256, 512) as (H, W)."""
    try:
        parts = [int(p) for p in text.lower().replace("×", "x").split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) <= 0:
        raise InputError(f"{text!r} is not a size", source=flag, fix="write H or HxW, e.g. 256x512")
    return parts[0], parts[1]


# Where a family's paper departs from the shared defaults of FitOptions; `app-train fit`
# applies these unless the flag is given. StyleGAN2: lr 0.002 and Adam β2 0.99 for G and
# D; its EMA half-life of 10k images is a decay of ≈ 0.999 at our batch sizes.
FAMILY_DEFAULTS: dict[str, dict[str, float]] = {
    "stylegan2": {"lr_g": 0.002, "lr_d": 0.002, "beta2": 0.99, "ema_decay": 0.999},
    # ugen's rearranger, mapper and their discriminators: Adam lr 0.002, β (0, 0.99) (supplement A.2).
    "ugen": {"lr_g": 0.002, "lr_d": 0.002, "beta2": 0.99},
}

FAMILIES = ("oasis", "inade", "msca", "resail", "segmenter", "depth", "stylegan2", "ugen")
CONDITIONS = ("labels", "edges", "sketch", "depth")


@dataclass
class FitOptions:
    data: str  # KIND:PATH of the training set
    out: Path  # run folder
    family: str = "oasis"
    size: tuple[int, int] = (256, 256)  # (H, W) training crop
    load_size: int | None = None  # resize shorter side to this, then random-crop `size`
    batch: int = 8  # global batch (split evenly over DDP ranks)
    steps: int = 1000
    lr: float = 1e-3  # single-network families (segmenter)
    lr_g: float = 1e-4  # paper: 1e-4 (4e-4 for Cityscapes)
    lr_d: float = 4e-4
    beta1: float = 0.0
    beta2: float = 0.999
    lambda_labelmix: float = 10.0  # paper: 10 (5 for Cityscapes)
    # Beyond the paper (off by default): L1 between the generated and the paired real image
    # after average-pooling by pair_pool, so only layout-level colour is tied to the pair.
    # Rendered landscapes have exact pairs; it speeds early CPU training. See DESIGN.md.
    lambda_pair_l1: float = 0.0
    pair_pool: int = 8
    # OASIS, beyond the paper: an image → noise encoder (KL ×lambda_kl) makes the paired
    # render a well-posed target for half of each batch; the perceptual loss (frozen
    # ImageNet EfficientNet-Lite0 features) and the pair L1 then apply to that half.
    style_encoder: bool = False
    lambda_perceptual: float = 0.0
    lambda_kl: float = 0.05
    # OASIS and INADE, beyond the papers: hold the generated images' share of high-pass
    # power on the frequency axes (stripes) to the real batch's (engine/train/stripe_loss.py).
    lambda_stripe: float = 0.0
    # OASIS and INADE, beyond the papers: hold the generated batch's high-pass power, band by
    # band, on and off the frequency axes, to the real batch's (engine/train/spectrum_loss.py).
    lambda_spectrum: float = 0.0
    # INADE, beyond the paper: half of each batch keeps its prior noise (adversarial loss
    # only) instead of the encoder's, as OASIS's --style-encoder does (engine/train/inade_step.py).
    free_half: bool = False
    upsample: str | None = None  # OASIS generator: nearest (paper) | bilinear
    # segmenter, depth: unet (default) | efficientnet-lite0 (ImageNet start). oasis: the
    # discriminator's encoder — unet (the paper's) | efficientnet-lite0 (a frozen ImageNet
    # trunk, engine.networks.oasis_projected)
    backbone: str | None = None
    # oasis: discriminator-only steps at the start of a run (a new discriminator catches up
    # with a trained generator before that generator follows its gradients again)
    d_warmup: int = 0
    # segmenter: weigh each class by its inverse pixel frequency in the batch (OASIS's
    # class balancing), so small classes (bush, rock) count for mIoU as much as sky.
    class_balance: bool = False
    ema_decay: float = 0.9999  # paper: 0.9999 (0.999 for Cityscapes)
    ema_bn_batches: int = 50  # batches for the BatchNorm refresh of the EMA copy
    arch: str = "paper"  # paper | small: base widths before the overrides below
    channels_g: int | None = None
    spade_hidden: int | None = None
    d_widths: tuple[int, ...] | None = None
    d_last_width: int | None = None
    precision: str = "auto"  # auto | fp32 | bf16
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 42
    workers: int = 2
    log_every: int = 50
    sample_every: int = 500
    ckpt_every: int = 500
    time_limit: float | None = None  # minutes; stop cleanly (with a checkpoint) after this
    init_from: Path | None = None
    # MSCA: a segmenter weights folder whose features stand in for VGG-19 (which cannot be
    # downloaded here) in the auxiliary-decoder pretraining and the feature loss.
    feature_net: Path | None = None
    pretrain_steps: int = 0  # MSCA: steps of auxiliary-decoder pretraining (supplement Sec. 8)
    lambda_feature: float = 0.0  # MSCA: L1 on --feature-net features of output and target
    attention: str = "msca"  # MSCA: "msca", or "gap" for the paper's no-attention baseline
    # INADE, MSCA: a local VGG-19 weights file (torchvision layout) for the papers' VGG
    # losses; INADE weighs it by lambda_feature, 10 (the paper's) when that is 0.
    vgg: Path | None = None
    # RESAIL: the segment database (a folder of `app-train retrieval build`; built from the
    # training split when absent), and the frozen segmenter of the segmentation loss (×lambda_seg,
    # the paper's 5) — never the evaluation segmenter.
    database: Path | None = None
    seg_net: Path | None = None
    lambda_seg: float = 5.0
    # RESAIL: σ above this is no match (supplement Table B's best on ADE20K is 0.15; on the
    # 2400-image landscapes database 0.15 guides 56 % of the pixels, 0.5 guides 92 %).
    retrieval_threshold: float = 0.15
    # ugen: the frozen StyleGAN2 weights folder, the mapper's condition, K of the proxy masks,
    # and how many of the steps train the rearranger before the mapper (None: half, fixed
    # when the run starts so that a resume with more --steps keeps the split).
    stylegan2: Path | None = None
    condition: str = "labels"
    # ugen --condition depth: the depth estimator (--family depth) that draws the mapper's
    # conditions from generated images; recorded in the exported config.
    depth_net: Path | None = None
    proxy_k: int = 25
    rearranger_steps: int | None = None
    skip_bad: bool = False
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        positive = {
            "--batch": self.batch,
            "--steps": self.steps,
            "--log-every": self.log_every,
            "--sample-every": self.sample_every,
            "--ckpt-every": self.ckpt_every,
            "--ema-bn-batches": self.ema_bn_batches,
        }
        for flag, value in positive.items():
            if value < 1:
                raise InputError(
                    f"must be at least 1, got {value}", source=flag, fix="pass a positive number"
                )
        for flag, value in {"--lr": self.lr, "--lr-g": self.lr_g, "--lr-d": self.lr_d}.items():
            if not 0 < value < 1:
                raise InputError(f"{value} is out of range", source=flag, fix="use e.g. 1e-4")
        for flag, value in {"--beta1": self.beta1, "--beta2": self.beta2}.items():
            if not 0 <= value < 1:
                raise InputError(f"{value} is out of range", source=flag, fix="use a value in [0, 1)")
        if self.lambda_pair_l1 < 0:
            raise InputError(
                f"{self.lambda_pair_l1} is negative", source="--lambda-pair-l1", fix="use 0 (off) or e.g. 1"
            )
        if self.vgg is not None and self.feature_net is not None:
            raise InputError(
                "give one feature network, not two", source="--vgg/--feature-net", fix="drop one of them"
            )
        if self.vgg is not None and self.family not in ("inade", "msca"):
            raise InputError(f"{self.family} training has no VGG loss", source="--vgg", fix="drop --vgg")
        features = self.feature_net is not None or self.vgg is not None
        if (self.pretrain_steps or self.lambda_feature) and not features and self.family == "msca":
            raise InputError(
                "pretraining and the feature loss need a feature network",
                source="--pretrain-steps/--lambda-feature",
                fix="pass --vgg FILE or --feature-net weights/landscapes-unet (or drop them)",
            )
        if self.pretrain_steps < 0 or self.lambda_feature < 0:
            raise InputError("must not be negative", source="--pretrain-steps/--lambda-feature")
        if self.lambda_perceptual < 0 or self.lambda_kl < 0:
            raise InputError("must not be negative", source="--lambda-perceptual/--lambda-kl")
        if not 0 <= self.lambda_stripe < float("inf"):
            raise InputError("must be a finite number ≥ 0", source="--lambda-stripe")
        if not 0 <= self.lambda_spectrum < float("inf"):
            raise InputError("must be a finite number ≥ 0", source="--lambda-spectrum")
        if self.lambda_seg < 0:
            raise InputError("must not be negative", source="--lambda-seg", fix="use 0 (off) or e.g. 5")
        if not 0 <= self.retrieval_threshold < float("inf"):
            raise InputError(
                "must be a finite number ≥ 0", source="--retrieval-threshold", fix="use e.g. 0.15"
            )
        resail_only = self.database is not None or self.retrieval_threshold != 0.15
        if resail_only and self.family != "resail":
            raise InputError(
                "only RESAIL training takes a segment database and a retrieval threshold",
                source="--database/--retrieval-threshold",
                fix="drop them",
            )
        if self.seg_net is not None and self.family not in ("oasis", "inade", "resail", "ugen"):
            raise InputError(
                "only OASIS, INADE and RESAIL (segmentation loss) and ugen (labels of generated images)"
                " take a segmenter",
                source="--seg-net",
                fix="drop --seg-net",
            )
        self._validate_ugen()
        if self.lambda_stripe and self.family not in ("oasis", "inade"):
            raise InputError(
                "only OASIS and INADE training have the stripe loss", source="--lambda-stripe", fix="drop it"
            )
        if self.lambda_spectrum and self.family not in ("oasis", "inade", "msca"):
            raise InputError(
                "only OASIS, INADE and MSCA training have the spectrum loss",
                source="--lambda-spectrum",
                fix="drop it",
            )
        if self.lambda_kl != 0.05 and not (self.family == "inade" or self.style_encoder):
            raise InputError(
                "only OASIS with --style-encoder and INADE have an encoder with a KL term",
                source="--lambda-kl",
                fix="drop --lambda-kl, or add --style-encoder (OASIS)",
            )
        if self.free_half and self.family != "inade":
            raise InputError(
                "only INADE training has --free-half (OASIS: --style-encoder)",
                source="--free-half",
                fix="drop it",
            )
        if self.style_encoder and self.family != "oasis":
            raise InputError(
                "only OASIS training has --style-encoder (INADE has its own encoder)",
                source="--style-encoder",
                fix="drop --style-encoder",
            )
        if self.upsample is not None and self.family not in ("oasis", "inade", "resail"):
            raise InputError(
                "only OASIS, INADE and RESAIL have --upsample", source="--upsample", fix="drop it"
            )
        if self.lambda_perceptual and self.family not in ("oasis", "inade", "resail"):
            raise InputError(
                "only OASIS, INADE and RESAIL training have the EfficientNet perceptual loss",
                source="--lambda-perceptual",
                fix="drop it (MSCA takes --vgg FILE or --feature-net)",
            )
        if self.lambda_perceptual and self.vgg is not None:
            raise InputError(
                "give one perceptual network, not two",
                source="--lambda-perceptual/--vgg",
                fix="drop one of them",
            )
        if self.class_balance and self.family != "segmenter":
            raise InputError(
                "only the segmenter takes --class-balance (OASIS always balances)",
                source="--class-balance",
                fix="drop it",
            )
        if self.backbone is not None and self.family not in ("segmenter", "depth", "oasis"):
            raise InputError(
                "only the segmenter, the depth estimator and OASIS's discriminator have a backbone choice",
                source="--backbone",
                fix="drop it",
            )
        if self.d_warmup < 0 or (self.d_warmup and self.family != "oasis"):
            raise InputError(
                "--d-warmup takes a step count ≥ 0, for OASIS only", source="--d-warmup", fix="drop it"
            )
        if self.backbone not in (None, "unet", "efficientnet-lite0"):
            raise InputError(
                f"{self.backbone!r} is not unet or efficientnet-lite0", source="--backbone", fix="pick one"
            )
        if self.upsample not in (None, "nearest", "bilinear"):
            raise InputError(
                f"{self.upsample!r} is not nearest or bilinear", source="--upsample", fix="pick one"
            )
        if self.pair_pool < 1:
            raise InputError(f"{self.pair_pool} is below 1", source="--pair-pool", fix="use e.g. 8")
        if not 0 <= self.ema_decay < 1:
            raise InputError(f"{self.ema_decay} is out of range", source="--ema-decay", fix="use e.g. 0.999")
        if self.family not in FAMILIES:
            raise InputError(
                f"family {self.family!r} is not trainable yet",
                source="--family",
                fix=f"use {', '.join(FAMILIES[:-1])} or {FAMILIES[-1]}",
            )
        if self.family == "stylegan2":
            self._validate_stylegan2()
        choices = {
            "--precision": (self.precision, ("auto", "fp32", "bf16")),
            "--device": (self.device, ("auto", "cpu", "cuda")),
            "--arch": (self.arch, ("paper", "small")),
        }
        for flag, (value, allowed) in choices.items():
            if value not in allowed:
                raise InputError(
                    f"{value!r} is not one of {allowed}", source=flag, fix=f"pick one of {allowed}"
                )
        if self.workers < 0:
            raise InputError(
                "must be 0 or more",
                source="--workers",
                fix="pass 0 to load data in the main process",
            )
        if self.load_size is not None and self.load_size < min(self.size):
            raise InputError(
                f"{self.load_size} is smaller than the crop {self.size}",
                source="--load-size",
                fix="leave it out, or make it at least the crop size",
            )

    def _validate_ugen(self) -> None:
        ugen_flags = {
            "--stylegan2": self.stylegan2 is not None,
            "--condition": self.condition != "labels",
            "--proxy-k": self.proxy_k != 25,
            "--rearranger-steps": self.rearranger_steps is not None,
            "--depth-net": self.depth_net is not None,
        }
        if self.family != "ugen":
            for flag, given in ugen_flags.items():
                if given:
                    raise InputError(f"only ugen training takes {flag}", source=flag, fix=f"drop {flag}")
            return
        if self.stylegan2 is None:
            raise InputError(
                "ugen makes a frozen StyleGAN2 paintable: name its weights folder",
                source="--stylegan2",
                fix="pass e.g. --stylegan2 weights/landscapes-stylegan2 (train one with --family stylegan2)",
            )
        if self.condition not in CONDITIONS:
            raise InputError(f"{self.condition!r} is not one of {CONDITIONS}", source="--condition")
        if self.condition == "depth" and self.depth_net is None:
            raise InputError(
                "the depth mapper learns from a depth estimator's depth of generated images",
                source="--depth-net",
                fix="pass a depth estimator's weights folder, e.g. --depth-net weights/landscapes-depth "
                "(train one with app-train fit --family depth)",
            )
        if self.condition != "depth" and self.depth_net is not None:
            raise InputError(
                f"the {self.condition} mapper reads no depth", source="--depth-net", fix="drop --depth-net"
            )
        if self.condition == "labels" and self.seg_net is None:
            raise InputError(
                "the label mapper learns from a segmenter's labels of generated images",
                source="--seg-net",
                fix="pass a training segmenter, e.g. --seg-net weights/landscapes-unet",
            )
        if self.condition != "labels" and self.seg_net is not None:
            raise InputError(
                f"the {self.condition} mapper needs no segmenter", source="--seg-net", fix="drop --seg-net"
            )
        if not 2 <= self.proxy_k <= 256:
            raise InputError(f"{self.proxy_k} is out of range (2–256)", source="--proxy-k", fix="use e.g. 25")
        if self.rearranger_steps is not None and self.rearranger_steps < 0:
            raise InputError("must not be negative", source="--rearranger-steps", fix="use e.g. 0")

    def _validate_stylegan2(self) -> None:
        h, w = self.size
        if h != w or h < 8 or h & (h - 1):
            raise InputError(
                f"StyleGAN2 makes square images whose side is a power of two ≥ 8, not {h}×{w}",
                source="--size",
                fix="use e.g. --size 128 or --size 256",
            )
        if self.lambda_pair_l1:
            raise InputError(
                "StyleGAN2 is unconditional: its samples have no paired image",
                source="--lambda-pair-l1",
                fix="drop it",
            )

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        paths = ("out", "init_from", "feature_net", "vgg", "database", "seg_net", "stylegan2", "depth_net")
        for key in paths:
            d[key] = None if d[key] is None else str(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FitOptions:
        d = dict(d)
        d["out"] = Path(d["out"])
        d["init_from"] = None if d.get("init_from") is None else Path(d["init_from"])
        for key in ("feature_net", "vgg", "database", "seg_net", "stylegan2", "depth_net"):
            d[key] = None if d.get(key) is None else Path(d[key])
        for key in ("size", "d_widths"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
