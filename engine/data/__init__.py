"""Dataset readers behind one interface, and the transforms that feed training.

``open_dataset("ade20k:/data/ADEChallengeData2016", split="train")`` (or a bare path,
whose layout is detected) gives a :class:`SegmentationDataset` of :class:`Sample` s in the
project's data model: RGB uint8 photo, uint16 label ids of the dataset's LabelSet, int32
instance ids (0 = none) or None.
"""

from engine.data.ade20k import ADE20KDataset
from engine.data.base import Entry, Sample, SegmentationDataset, read_image
from engine.data.cityscapes import CityscapesDataset
from engine.data.cocostuff import CocoStuffDataset
from engine.data.folder import FolderDataset
from engine.data.registry import dataset_kinds, detect_kind, open_dataset, parse_spec, resolve_label_set
from engine.data.transforms import (
    Batch,
    EvalTransform,
    TorchDataset,
    TrainTransform,
    cover_size,
    make_batch,
    resize_sample,
    to_tensors,
)

__all__ = [
    "ADE20KDataset",
    "Batch",
    "CityscapesDataset",
    "CocoStuffDataset",
    "Entry",
    "EvalTransform",
    "FolderDataset",
    "Sample",
    "SegmentationDataset",
    "TorchDataset",
    "TrainTransform",
    "cover_size",
    "dataset_kinds",
    "detect_kind",
    "make_batch",
    "open_dataset",
    "parse_spec",
    "read_image",
    "resize_sample",
    "resolve_label_set",
    "to_tensors",
]
