"""``app-train retrieval build`` and ``show`` on a tiny rendered landscapes dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.base import read_instance_png
from engine.data.landscapes.generate import write_dataset
from engine.labels import read_label_png
from engine.retrieval import RetrievalParams, Retriever, load_database
from engine.train.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("retrieval-cli")
    data = write_dataset(root / "land", count=10, height=64, width=64, workers=1)
    out = root / "db"
    assert (
        main(["retrieval", "build", "--data", f"landscapes:{data}", "--out", str(out), "--min-area", "4"])
        == 0
    )
    return data, out


def test_build_writes_a_database_of_the_train_split(built: tuple[Path, Path]) -> None:
    _, out = built
    db = load_database(out)
    assert len(db.sources) == 8 and len(db) > 0  # 8 of every 10 scenes are train
    assert db.info["options"]["min_area"] == 4
    index = json.loads((out / "index.json").read_text())
    assert index["info"]["command"].startswith("app-train retrieval build --data landscapes:")
    assert index["format"] == "tessera-retrieval" and index["version"] == 1


def test_show_writes_the_guidance_image(built: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    data, out = built
    labels = sorted((data / "test" / "labels").iterdir())[0]
    instances = data / "test" / "instances" / labels.name
    argv = ["retrieval", "show", "--db", str(out), "--labels", str(labels), "--instances", str(instances)]
    argv += ["--out", str(tmp_path / "g.png"), "--valid-out", str(tmp_path / "v.png"), "--threshold", "0.6"]
    assert main(argv) == 0
    assert "segments" in capsys.readouterr().out
    db = load_database(out)
    r = Retriever(db, RetrievalParams(threshold=0.6))
    r.update(read_label_png(labels, db.label_set), read_instance_png(instances))
    g = r.guidance()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "g.png")), g.image)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "v.png")) > 0, g.valid)


def test_show_refuses_what_it_cannot_use(built: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    data, out = built
    labels = sorted((data / "test" / "labels").iterdir())[0]
    assert (
        main(
            [
                "retrieval",
                "show",
                "--db",
                str(data),
                "--labels",
                str(labels),
                "--out",
                str(tmp_path / "g.png"),
            ]
        )
        == 2
    )
    assert "no index.json" in capsys.readouterr().err
    assert (
        main(
            ["retrieval", "show", "--db", str(out), "--labels", str(labels), "--out", str(tmp_path / "g.gif")]
        )
        == 2
    )
    assert "--out" in capsys.readouterr().err
    argv = ["retrieval", "show", "--db", str(out), "--labels", str(labels), "--out", str(tmp_path / "g.png")]
    assert main([*argv, "--k", "0"]) == 2
    assert "--k" in capsys.readouterr().err
