"""RESAIL's retrieval half: a segment database, the match score, live retrieval, guidance images.

Shi et al., *Retrieval-based Spatially Adaptive Normalization for Semantic Image
Synthesis*, CVPR 2022 (supplement A.1) guides the generator with a *guidance image*
composed of real training segments, each retrieved for a segment of the label map by
class and shape. Qt-free, so the trainer and the studio share it. By concern:

- :mod:`~engine.retrieval.segments`: a label map → segments (instances for things,
  the largest connected components covering 90 % of each stuff class);
- :mod:`~engine.retrieval.score`: σ = σ_scale + γ·σ_shape over an index per class;
- :mod:`~engine.retrieval.database`: the segments of a training split and their pixels;
- :mod:`~engine.retrieval.build` / :mod:`~engine.retrieval.storage`: building, saving, loading;
- :mod:`~engine.retrieval.retriever`: incremental retrieval while painting, choices and pins;
- :mod:`~engine.retrieval.choices`: a painter's choices as data (undoable, saved in projects);
- :mod:`~engine.retrieval.guidance`: the four pasting rules → the guidance image.
"""

from engine.retrieval.build import BuildOptions, build_database
from engine.retrieval.choices import (
    Choice,
    Choices,
    Patch,
    choices_from_json,
    choices_to_json,
    photo_patch,
    resolve,
    with_choice,
)
from engine.retrieval.database import DatabaseError, SegmentDatabase, SegmentTable, SourceImages
from engine.retrieval.guidance import Guidance, compose_guidance
from engine.retrieval.retriever import RetrievalState, RetrievalUpdate, Retriever
from engine.retrieval.score import THRESHOLD, TOP_K, ClassIndex, Matches, RetrievalParams, sigma
from engine.retrieval.segments import Segment, SegmentKey, decompose, mask_grid, sample_nearest
from engine.retrieval.storage import WEIGHTS_SUBFOLDER, load_database, save_database

__all__ = [
    "THRESHOLD",
    "TOP_K",
    "WEIGHTS_SUBFOLDER",
    "BuildOptions",
    "Choice",
    "Choices",
    "ClassIndex",
    "DatabaseError",
    "Guidance",
    "Matches",
    "Patch",
    "RetrievalParams",
    "RetrievalState",
    "RetrievalUpdate",
    "Retriever",
    "Segment",
    "SegmentDatabase",
    "SegmentKey",
    "SegmentTable",
    "SourceImages",
    "build_database",
    "choices_from_json",
    "choices_to_json",
    "compose_guidance",
    "decompose",
    "load_database",
    "mask_grid",
    "photo_patch",
    "resolve",
    "sample_nearest",
    "save_database",
    "sigma",
    "with_choice",
]
