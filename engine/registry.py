"""Model families and the spec that travels with every weights folder.

A ``ModelSpec`` is what ``config.json`` holds: the family, the label set, the channel
order the nets were trained with, the training size, the architecture dataclasses and
the provenance. Building a family's nets needs nothing else, so a weights folder is
self-describing and loading it never runs code.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from engine.encoding import LabelEncoder
from engine.labels import LabelSet
from engine.networks.depth import DepthNet, DepthNetConfig
from engine.networks.inade import (
    InadeConfig,
    InadeDiscriminator,
    InadeDiscriminatorConfig,
    InadeEncoder,
    InadeEncoderConfig,
    InadeGenerator,
    InadeGeneratorConfig,
)
from engine.networks.msca import MscaConfig, MscaGenerator, MscaModelConfig
from engine.networks.oasis import (
    OasisConfig,
    OasisDiscriminatorConfig,
    OasisGenerator,
    OasisGeneratorConfig,
    OasisStyleEncoder,
    OasisStyleEncoderConfig,
    oasis_discriminator,
)
from engine.networks.patchgan import MultiScalePatchGan, PatchGanConfig
from engine.networks.rearranger import RearrangerConfig
from engine.networks.resail import ResailConfig, ResailGenerator, ResailGeneratorConfig
from engine.networks.segmenter import Segmenter, SegmenterConfig
from engine.networks.semantic_mapper import ConditionMapperConfig, LabelMapperConfig
from engine.networks.sesame_d import SesameDiscriminatorConfig, SesameMultiScaleDiscriminator
from engine.networks.spade import (
    SpadeConfig,
    SpadeEncoder,
    SpadeEncoderConfig,
    SpadeGenerator,
    SpadeGeneratorConfig,
)
from engine.networks.stylegan2 import (
    StyleGan2Config,
    StyleGan2Discriminator,
    StyleGan2DiscriminatorConfig,
    StyleGan2Generator,
    StyleGan2GeneratorConfig,
)
from engine.networks.ugen import MAPPER_PARTS, UgenConfig
from engine.networks.ugen import build_part as _ugen_build
from engine.networks.ugen import has_part as ugen_has_part

FORMAT = "tessera-weights"
FORMAT_VERSION = 1


@dataclass
class Family:
    """How to (de)serialise one family's architecture and build its nets."""

    name: str
    arch_to_dict: Callable[[Any], dict]
    arch_from_dict: Callable[[dict], Any]
    # file stem (generator, discriminator, …) → builder taking the architecture
    builders: dict[str, Callable[[Any], nn.Module]]
    # What ``load_weights`` reads when no parts are named: required, then optional.
    default_parts: tuple[str, ...] = ("generator",)
    default_optional: tuple[str, ...] = ()
    # Whether an architecture has a part at all (ugen: a model trained for labels has no
    # edge mapper); parts it lacks are not built, not even to count their parameters.
    has_part: Callable[[Any, str], bool] = lambda arch, part: True


MAX_SIZE_VALUE = 1 << 16  # widths, channels, kernel sizes: anything larger is not a real net


def _dc_from_dict(cls: type, d: dict) -> Any:
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__} must be a JSON object, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    for f in dataclasses.fields(cls):
        if f.name in kwargs:
            _check_value(cls.__name__, f.name, str(f.type), kwargs[f.name])
    return cls(**kwargs)


def _check_value(owner: str, name: str, annotation: str, value: Any) -> None:
    """Type and range of one architecture field, from its annotation: sizes are positive
    integers of sane size, flags are booleans, names are strings."""
    where = f"{owner}.{name}"
    if value is None and "None" in annotation:  # an optional field left empty
        return
    if annotation.startswith("bool"):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {value!r}")
    elif annotation.startswith(("int", "tuple[int")):
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"{where} must hold integers, got {value!r}")
            if not 0 <= item <= MAX_SIZE_VALUE:
                raise ValueError(f"{where} = {item} is out of range (0–{MAX_SIZE_VALUE})")
    elif annotation.startswith("str") and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")


def _oasis_from_dict(d: dict) -> OasisConfig:
    return OasisConfig(
        generator=_dc_from_dict(OasisGeneratorConfig, d["generator"]),
        discriminator=_dc_from_dict(OasisDiscriminatorConfig, d["discriminator"]),
        encoder=_dc_from_dict(OasisStyleEncoderConfig, d["encoder"]) if d.get("encoder") else None,
    )


def _oasis_encoder(arch: OasisConfig) -> nn.Module:
    if arch.encoder is None:
        raise ValueError("this OASIS model was trained without a style encoder")
    return OasisStyleEncoder(arch.encoder)


def _msca_from_dict(d: dict) -> MscaModelConfig:
    return MscaModelConfig(
        generator=_dc_from_dict(MscaConfig, d["generator"]),
        discriminator=_dc_from_dict(PatchGanConfig, d["discriminator"]),
    )


def _inade_from_dict(d: dict) -> InadeConfig:
    return InadeConfig(
        generator=_dc_from_dict(InadeGeneratorConfig, d["generator"]),
        encoder=_dc_from_dict(InadeEncoderConfig, d["encoder"]),
        discriminator=_dc_from_dict(InadeDiscriminatorConfig, d["discriminator"]),
    )


def _spade_from_dict(d: dict) -> SpadeConfig:
    return SpadeConfig(
        generator=_dc_from_dict(SpadeGeneratorConfig, d["generator"]),
        encoder=_dc_from_dict(SpadeEncoderConfig, d["encoder"]) if d.get("encoder") else None,
    )


def _resail_from_dict(d: dict) -> ResailConfig:
    return ResailConfig(
        generator=_dc_from_dict(ResailGeneratorConfig, d["generator"]),
        discriminator=_dc_from_dict(SesameDiscriminatorConfig, d["discriminator"]),
    )


def _stylegan2_from_dict(d: dict) -> StyleGan2Config:
    return StyleGan2Config(
        generator=_dc_from_dict(StyleGan2GeneratorConfig, d["generator"]),
        discriminator=_dc_from_dict(StyleGan2DiscriminatorConfig, d["discriminator"]),
    )


def _ugen_from_dict(d: dict) -> UgenConfig:
    nested = {"rearranger": RearrangerConfig, "label_mapper": LabelMapperConfig}
    nested["condition_mapper"] = ConditionMapperConfig
    flat = {k: v for k, v in d.items() if k not in nested}
    config = _dc_from_dict(UgenConfig, flat)
    for key, cls in nested.items():
        if d.get(key) is not None:
            setattr(config, key, _dc_from_dict(cls, d[key]))
    return config


def _spade_encoder(arch: SpadeConfig) -> nn.Module:
    if arch.encoder is None:
        raise ValueError("this SPADE model has no image encoder (it was trained without use_vae)")
    return SpadeEncoder(arch.encoder)


FAMILIES: dict[str, Family] = {
    "oasis": Family(
        name="oasis",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_oasis_from_dict,
        builders={
            "generator": lambda a: OasisGenerator(a.generator),
            "generator_live": lambda a: OasisGenerator(a.generator),
            "discriminator": lambda a: oasis_discriminator(a.discriminator),
            "encoder": _oasis_encoder,
        },
    ),
    "inade": Family(
        name="inade",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_inade_from_dict,
        builders={
            "generator": lambda a: InadeGenerator(a.generator),
            "generator_live": lambda a: InadeGenerator(a.generator),
            "encoder": lambda a: InadeEncoder(a.encoder),
            "discriminator": lambda a: InadeDiscriminator(a.discriminator),
        },
    ),
    "spade": Family(
        name="spade",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_spade_from_dict,
        builders={
            "generator": lambda a: SpadeGenerator(a.generator),
            "encoder": _spade_encoder,
        },
    ),
    "resail": Family(
        name="resail",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_resail_from_dict,
        builders={
            "generator": lambda a: ResailGenerator(a.generator),
            "generator_live": lambda a: ResailGenerator(a.generator),
            "discriminator": lambda a: SesameMultiScaleDiscriminator(a.discriminator),
        },
    ),
    "msca": Family(
        name="msca",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_msca_from_dict,
        builders={
            "generator": lambda a: MscaGenerator(a.generator),
            "generator_live": lambda a: MscaGenerator(a.generator),
            "discriminator": lambda a: MultiScalePatchGan(a.discriminator),
        },
    ),
    "stylegan2": Family(
        name="stylegan2",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_stylegan2_from_dict,
        builders={
            "generator": lambda a: StyleGan2Generator(a.generator),
            "generator_live": lambda a: StyleGan2Generator(a.generator),
            "discriminator": lambda a: StyleGan2Discriminator(a.discriminator),
        },
    ),
    "ugen": Family(
        name="ugen",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=_ugen_from_dict,
        builders={
            part: functools.partial(_ugen_build, part=part) for part in ("proxy", "rearranger", *MAPPER_PARTS)
        },
        default_parts=("rearranger", "proxy"),
        default_optional=MAPPER_PARTS,
        has_part=ugen_has_part,
    ),
    "segmenter": Family(
        name="segmenter",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=lambda d: _dc_from_dict(SegmenterConfig, d),
        builders={"segmenter": Segmenter},
    ),
    "depth": Family(
        name="depth",
        arch_to_dict=dataclasses.asdict,
        arch_from_dict=lambda d: _dc_from_dict(DepthNetConfig, d),
        builders={"depth": DepthNet},
        default_parts=("depth",),
    ),
}


@dataclass
class ModelSpec:
    family: str
    label_set: LabelSet
    channel_ids: list[int]
    dontcare_channel: int | None
    image_size: tuple[int, int]  # (H, W) it was trained at; any multiple works
    arch: Any  # the family's config dataclass, e.g. OasisConfig or InadeConfig
    training: dict = field(default_factory=dict)  # provenance: data, command, steps, …

    @property
    def encoder(self) -> LabelEncoder:
        return LabelEncoder(self.channel_ids, self.dontcare_channel)

    def build(self, part: str) -> nn.Module:
        return FAMILIES[self.family].builders[part](self.arch)

    def to_dict(self) -> dict:
        builtin = self.label_set.name in LabelSet.builtin_names() and (
            LabelSet.builtin(self.label_set.name).to_dict() == self.label_set.to_dict()
        )
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "family": self.family,
            "label_set": self.label_set.name if builtin else self.label_set.to_dict(),
            "image_size": list(self.image_size),
            "channel_ids": list(self.channel_ids),
            "dontcare_channel": self.dontcare_channel,
            "architecture": FAMILIES[self.family].arch_to_dict(self.arch),
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        """Parse config.json; raises KeyError/ValueError/TypeError on a malformed file."""
        if d.get("format") != FORMAT:
            raise ValueError(f"'format' is {d.get('format')!r}, expected {FORMAT!r}")
        if int(d.get("version", 0)) > FORMAT_VERSION:
            raise ValueError(f"format version {d['version']} is newer than this Tessera reads")
        family = d["family"]
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
        ls = d["label_set"]
        label_set = LabelSet.builtin(ls) if isinstance(ls, str) else LabelSet.from_dict(ls)
        spec = cls(
            family=family,
            label_set=label_set,
            channel_ids=[int(i) for i in d["channel_ids"]],
            dontcare_channel=d.get("dontcare_channel"),
            image_size=(int(d["image_size"][0]), int(d["image_size"][1])),
            arch=FAMILIES[family].arch_from_dict(d["architecture"]),
            training=dict(d.get("training", {})),
        )
        spec.check_channels()
        return spec

    def check_channels(self) -> None:
        """channel_ids must name each one-hot channel of the nets once, with ids of the label set
        (a short or foreign list would silently shift every class to another channel)."""
        ids = self.channel_ids
        unknown = [i for i in ids if i not in self.label_set]
        if unknown:
            raise ValueError(f"channel_ids {unknown[:5]} are not ids of label set '{self.label_set.name}'")
        if len(set(ids)) != len(ids):
            raise ValueError("channel_ids lists an id twice")
        expected = _channels_of(self.arch)
        if expected is not None and len(ids) != expected:
            raise ValueError(f"channel_ids has {len(ids)} entries, the architecture has {expected} channels")
        if self.dontcare_channel is not None and not 0 <= int(self.dontcare_channel) < len(ids):
            raise ValueError(f"dontcare_channel {self.dontcare_channel} is not a channel (0–{len(ids) - 1})")


def _channels_of(arch: Any) -> int | None:
    """How many one-hot channels a family's architecture takes (None where it has no such count)."""
    generator = getattr(arch, "generator", None)
    if generator is not None and hasattr(generator, "semantic_nc"):
        return int(generator.semantic_nc)
    if hasattr(arch, "semantic_nc"):  # ugen: its label mapper's input, present or not
        return int(arch.semantic_nc)
    return int(arch.num_classes) if hasattr(arch, "num_classes") else None
