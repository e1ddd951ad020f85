"""RESAIL trains (two passes, SESAME D, segmentation loss), resumes, exports with its database."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoints import load_weights
from engine.data.base import Sample
from engine.networks.resail import EMPTY_GUIDANCE
from engine.retrieval import load_database
from engine.train.cli import main
from engine.train.resail_data import GuidanceMaker
from engine.train.seg_loss import load_training_segmenter
from tests.engine.retrieval_helpers import landscape, tiny_landscapes_db
from tests.helpers import write_tiny_segmenter

SIZE = 96  # the smallest `normal` RESAIL map (3×3 latent grid)


@pytest.fixture(scope="module")
def landscapes96(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("land96")
    args = ["data", "landscapes", "--out", str(root), "--count", "10", "--size", str(SIZE), "--workers", "1"]
    assert main(args) == 0
    return root


def test_guidance_maker_excludes_the_sample_and_fills_only_guided_pixels() -> None:
    db = tiny_landscapes_db()
    maker = GuidanceMaker(db)
    own = landscape(3)  # a training image of the database: its own segments must not come back
    distorted, retrieved = maker(own, np.random.default_rng(0))
    for g in (distorted, retrieved):
        assert g.image.shape == (*own.labels.shape, 3) and g.valid.shape == own.labels.shape
        assert not g.image[~g.valid].any()  # nothing outside what was pasted
    assert retrieved.valid.any() and distorted.valid.any()
    source = maker.source_of[own.stem]
    rows = [m.rows for m in db.retrieve(db_segments(maker, own), own.labels.shape, maker.params)]
    assert any(source in set(db.table.sources[r].tolist()) for r in rows)  # without exclusion it would
    # … but the maker's retrieval leaves it out: its top-1 pixels are not the photo's own.
    assert not np.array_equal(retrieved.image[retrieved.valid], own.image[retrieved.valid])
    # Same rng seed, same distortion; another seed, another.
    again, _ = maker(own, np.random.default_rng(0))
    other, _ = maker(own, np.random.default_rng(1))
    assert np.array_equal(again.image, distorted.image)
    assert not np.array_equal(other.image, distorted.image)


def db_segments(maker: GuidanceMaker, sample: Sample) -> list:
    from engine.retrieval import Retriever

    return Retriever(maker.db, maker.params).update(sample.labels, sample.instances).segments


def test_resail_fit_resume_export_init_from(tmp_path: Path, landscapes96: Path, capsys) -> None:
    seg = write_tiny_segmenter(tmp_path / "seg")
    run, weights = tmp_path / "run", tmp_path / "resail"
    args = ["fit", "--family", "resail", "--data", f"landscapes:{landscapes96}", "--out", str(run)]
    args += ["--size", str(SIZE), "--batch", "2", "--steps", "2", "--arch", "small", "--workers", "0"]
    args += ["--precision", "fp32", "--log-every", "1", "--sample-every", "2", "--ckpt-every", "2"]
    args += ["--ema-bn-batches", "1", "--seg-net", str(seg), "--lambda-pair-l1", "1"]
    # Eight training images match little at the paper's 0.15; the studio then uses the model's σ.
    args += ["--retrieval-threshold", "0.99"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "built the segment database" in out and "segmentation loss ×5.0" in out
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert len(rows) == 2
    for key in ("loss_g_a", "loss_g_b", "loss_feat", "loss_seg", "loss_pair_l1", "loss_d"):
        assert np.isfinite(float(rows[-1][key])), key
    assert float(rows[-1]["loss_feat"]) > 0 and float(rows[-1]["loss_seg"]) > 0
    assert list((run / "samples").glob("*.png"))
    assert main(["fit", "--resume", "--out", str(run), "--steps", "3"]) == 0
    assert (run / "log.csv").read_text().splitlines()[-1].startswith("3,")

    assert main(["export", "--run", str(run), "--out", str(weights), "--bn-batches", "1"]) == 0
    loaded = load_weights(weights, family="resail", parts=("generator",), optional=("discriminator",))
    assert set(loaded.nets) == {"generator", "discriminator"}
    db = load_database(weights / "retrieval")
    assert len(db.sources) == 8  # the training split of 10 scenes
    card = (weights / "CARD.md").read_text()
    assert "RESAIL (official code)" in card and "segmentation loss ×5.0" in card
    g = loaded.nets["generator"]
    onehot = torch.zeros(1, g.config.semantic_nc, SIZE, SIZE)
    onehot[:, 1] = 1
    with torch.no_grad():
        image = g(onehot, torch.full((1, 3, SIZE, SIZE), EMPTY_GUIDANCE))
    assert image.shape == (1, 3, SIZE, SIZE) and torch.isfinite(image).all()

    # generate: the image and the guidance image it was composed from.
    label_png = sorted((landscapes96 / "test" / "labels").glob("*.png"))[0]
    out, guide = tmp_path / "out.png", tmp_path / "guide.png"
    gen = ["generate", "--weights", str(weights), "--labels", str(label_png), "--out", str(out)]
    assert main([*gen, "--guidance-out", str(guide)]) == 0
    assert "of the pixels guided" in capsys.readouterr().out
    picture, guidance = np.asarray(Image.open(out)), np.asarray(Image.open(guide))
    assert picture.shape == guidance.shape == (SIZE, SIZE, 3) and guidance.any()
    # The contact sheet: map · guidance · image · the largest region with its second match.
    sheet = tmp_path / "samples.png"
    assert main(["samples", "--weights", str(weights), "--out", str(sheet), "--scenes", str(label_png)]) == 0
    assert np.asarray(Image.open(sheet)).shape == (SIZE, 4 * SIZE, 3)
    # eval runs on RESAIL weights like any other family.
    report = tmp_path / "eval"
    ev = ["eval", "--weights", str(weights), "--data", f"landscapes:{landscapes96}", "--segmenter", str(seg)]
    assert main([*ev, "--limit", "2", "--out", str(report)]) == 0
    assert (report / "eval.json").is_file()

    capsys.readouterr()
    run2 = tmp_path / "run2"
    args2 = ["fit", "--data", f"landscapes:{landscapes96}", "--out", str(run2), "--size", str(SIZE)]
    args2 += ["--family", "resail", "--batch", "2", "--steps", "1", "--workers", "0", "--precision", "fp32"]
    args2 += ["--init-from", str(weights), "--database", str(weights / "retrieval")]
    args2 += ["--ema-bn-batches", "1", "--sample-every", "5", "--ckpt-every", "1"]
    assert main(args2) == 0
    assert "built the segment database" not in capsys.readouterr().out


def test_guidance_out_is_refused_for_other_families(tmp_path: Path, tiny_model: Path) -> None:
    labels = tmp_path / "map.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(labels)
    args = ["generate", "--weights", str(tiny_model), "--labels", str(labels)]
    assert main([*args, "--out", str(tmp_path / "o.png"), "--guidance-out", str(tmp_path / "g.png")]) == 2
    assert not (tmp_path / "o.png").exists()


def test_a_resail_folder_without_its_database_says_how_to_mend_it(tmp_path: Path) -> None:
    from engine.errors import InputError
    from engine.inference.open import open_synthesizer
    from tests.helpers import write_tiny_resail

    folder = write_tiny_resail(tmp_path / "r", with_database=False)
    with pytest.raises(InputError, match="no segment database") as err:
        open_synthesizer(folder)
    assert "retrieval build" in str(err.value)


def test_the_evaluation_segmenter_is_refused_as_a_training_loss(tmp_path: Path) -> None:
    seg = write_tiny_segmenter(tmp_path / "seg")
    with pytest.raises(Exception, match="evaluation segmenter"):
        load_training_segmenter(seg, evaluation=seg)
    net, spec = load_training_segmenter(seg, evaluation=tmp_path / "elsewhere")
    assert spec.family == "segmenter" and not any(p.requires_grad for p in net.parameters())


def test_guidance_branch_starts_open() -> None:
    """With the opening init every AdaIN starts as a plain InstanceNorm, so the guidance
    changes the output from the first step (the official init multiplies it by ≈ 0)."""
    from engine.networks.blocks import init_official
    from engine.networks.resail import ResailConfig, ResailGenerator
    from engine.train.resail_step import open_guidance

    torch.manual_seed(0)
    g = ResailGenerator(ResailConfig.small(5).generator)
    init_official(g)
    onehot = torch.zeros(2, 5, SIZE, SIZE)
    onehot[:, 1] = 1
    guides = torch.rand(2, 3, SIZE, SIZE) * 2 - 1

    def spread() -> float:
        with torch.no_grad():
            out = g.eval()(onehot, guides)
        return float((out[0] - out[1]).abs().mean())

    closed = spread()
    open_guidance(g)
    norm = g.head_0.norm_0
    c1, c2 = norm.adain_params(onehot[:1, :, :8, :8])
    n = norm.style_length
    assert torch.allclose(c1[:, :n], torch.ones_like(c1[:, :n]), atol=0.1)
    assert torch.allclose(c2[:, :n], torch.ones_like(c2[:, :n]), atol=0.1)
    assert spread() > 3 * closed


def test_resail_flags_are_refused_elsewhere(tmp_path: Path, landscapes96: Path) -> None:
    base = ["fit", "--data", f"landscapes:{landscapes96}", "--out", str(tmp_path / "r"), "--dry-run"]
    assert main([*base, "--family", "msca", "--seg-net", str(tmp_path)]) == 2
    assert main([*base, "--family", "resail", "--lambda-seg", "-1"]) == 2
    assert main([*base, "--family", "oasis", "--retrieval-threshold", "0.5"]) == 2
    assert main([*base, "--family", "resail", "--beta2", "1.5"]) == 2
    assert main([*base, "--family", "resail"]) == 0
