"""`app-train eval --condition`: a tiny random ugen folder measured on what it draws from
edges or depth taken from the real test images (depth from the data's depth/ maps, else the
model's depth estimator), the label path unchanged, refusals that name the folder and the
fix, and one card section per condition."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.cards import EVAL_BEGIN, EVAL_END, eval_markers
from engine.train.cli import main
from tests.helpers import (
    TINY_SET,
    make_folder_dataset,
    write_tiny_depth_net,
    write_tiny_oasis,
    write_tiny_segmenter,
)
from tests.ugen_helpers import SIDE, write_tiny_ugen


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A ugen folder with all four mappers (and the depth estimator it names),
    its segmenter, and two datasets: with depth/ maps and without."""
    root = tmp_path_factory.mktemp("world")
    ugen = write_tiny_ugen(root / "models", conditions=("labels", "edges", "sketch", "depth"))
    return {
        "ugen": ugen,
        "seg": write_tiny_segmenter(root / "seg", TINY_SET),
        "depth_data": make_folder_dataset(root / "depth-data", count=2, depth=True),
        "plain_data": make_folder_dataset(root / "plain-data", count=2),
    }


def _eval(world: dict[str, Path], data: str, *extra: str, weights: Path | None = None) -> int:
    args = ["eval", "--weights", str(weights or world["ugen"]), "--data", f"folder:{world[data]}"]
    return main([*args, "--split", "val", "--segmenter", str(world["seg"]), *extra])


def test_labels_is_todays_report(world: dict[str, Path], tmp_path: Path) -> None:
    assert _eval(world, "depth_data", "--out", str(tmp_path / "plain")) == 0
    assert _eval(world, "depth_data", "--out", str(tmp_path / "flag"), "--condition", "labels") == 0
    for name in ("eval.json", "eval.md", "eval.png"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "flag" / name).read_bytes(), name
    report = json.loads((tmp_path / "plain" / "eval.json").read_text())
    assert report["condition"] == "labels" and "condition_source" not in report
    assert "Drawn from" not in (tmp_path / "plain" / "eval.md").read_text()


@pytest.mark.parametrize(
    ("condition", "data", "source"),
    [
        ("edges", "depth_data", "Canny edges of the real images"),  # the tiny model's extractor
        ("sketch", "plain_data", "the OpenCV sketch of the real images"),
        ("depth", "depth_data", "the dataset's depth maps"),
        ("depth", "plain_data", "the model's depth estimator (depth) on the real images"),
    ],
)
def test_other_conditions_end_to_end(
    world: dict[str, Path], tmp_path: Path, condition: str, data: str, source: str
) -> None:
    out = tmp_path / "report"
    assert _eval(world, data, "--out", str(out), "--condition", condition) == 0
    report = json.loads((out / "eval.json").read_text())
    assert report["condition"] == condition
    assert report["condition_source"].startswith(source) and report["condition_source"].endswith("(2 maps)")
    assert report["images"] == 2 and 0 <= report["ms_ssim"] <= 1  # diversity across z, as for labels
    for key in ("miou_generated", "miou_real", "fsd", "colour_emd", "texture_chi2", "stripe_ratio"):
        assert report[key] is not None and report[key] >= 0, key
    assert "painted_stripe_ratio" not in report and "label maps" in report["painted_note"]
    markdown = (out / "eval.md").read_text()
    assert f"Drawn from **{condition}**: {source}" in markdown and "mIoU on generated images" in markdown
    from PIL import Image

    # label map · the condition · real · three noise samples, for each of the two maps
    assert Image.open(out / "eval.png").size == (6 * SIDE, 2 * SIDE)


def test_a_missing_mapper_is_refused_before_anything_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = write_tiny_ugen(tmp_path, conditions=("labels", "edges"))
    args = ["eval", "--weights", str(weights), "--data", "folder:nowhere", "--condition", "depth"]
    assert main(args) == 2  # the data is not there: refused before it is opened
    err = capsys.readouterr().err
    assert str(weights) in err and "no depth mapper" in err and "(mappers trained: labels, edges)" in err
    assert (
        "Fix: pass --condition with one of: labels, edges" in err and "--condition depth --init-from" in err
    )


@pytest.mark.parametrize(
    ("family", "condition"), [("oasis", "edges"), ("oasis", "labels"), ("depth", "depth")]
)
def test_other_families_refuse_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], family: str, condition: str
) -> None:
    weights = (
        write_tiny_oasis(tmp_path / "oasis")
        if family == "oasis"
        else write_tiny_depth_net(tmp_path / "depth", TINY_SET)
    )
    args = ["eval", "--weights", str(weights), "--data", "folder:nowhere", "--condition", condition]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(weights) in err and f"this is a '{family}' model" in err and "Fix: drop --condition" in err


def test_card_keeps_one_section_per_condition(world: dict[str, Path], tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(world["ugen"].parent, models)  # the card is written into the folder
    weights = models / world["ugen"].name
    card = weights / "CARD.md"
    card.write_text(f"# u\n\n## Measured quality\n\n{EVAL_BEGIN}\nNot measured yet.\n{EVAL_END}\n\nfooter\n")
    for condition in ("labels", "edges", "depth", "labels", "edges"):  # reruns replace their own section
        assert _eval(world, "depth_data", "--card", "--condition", condition, weights=weights) == 0
    text = card.read_text()
    sections = {}
    for condition in (None, "edges", "depth"):
        begin, end = eval_markers(condition)
        assert text.count(begin) == 1 and text.count(end) == 1, condition
        sections[condition] = text.split(begin, 1)[1].split(end, 1)[0]
    assert "Drawn from" not in sections[None] and "(eval/eval.png)" in sections[None]
    assert "Drawn from **edges**" in sections["edges"] and "(eval-edges/eval.png)" in sections["edges"]
    assert "Drawn from **depth**" in sections["depth"] and "(eval-depth/eval.png)" in sections["depth"]
    assert "Not measured yet" not in text and text.endswith("footer\n")
    assert text.index(EVAL_END) < text.index(eval_markers("edges")[0])  # under "Measured quality"
    for folder in ("eval", "eval-edges", "eval-depth"):  # no run overwrote another's files
        assert json.loads((weights / folder / "eval.json").read_text())["condition"] == (
            "labels" if folder == "eval" else folder.removeprefix("eval-")
        )
