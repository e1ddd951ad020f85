"""Hostile or mistaken inputs to app-train get one clear line naming the file and the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.paths import RESOURCES, WEIGHTS
from engine.train.cli import main

SCENE = RESOURCES / "scenes" / "painted.png"


def _weights_with(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "w"
    shutil.copytree(WEIGHTS / "landscapes-oasis", folder, ignore=shutil.ignore_patterns("*live*", "eval"))
    config = folder / "config.json"
    config.write_text(edit(config.read_text()))
    return folder


def _arch(field: str, value: object):
    def edit(text: str) -> str:
        d = json.loads(text)
        d["architecture"]["generator"][field] = value
        return json.dumps(d)

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: "[1, 2]", "holds a JSON list"),
        (lambda t: "[" * 5000 + "]" * 5000, "nested too deeply"),
        (_arch("channels_g", -4), "channels_g = -4 is out of range"),
        (_arch("channels_g", "16"), "channels_g must hold integers"),
        (_arch("channels_g", 60000), "parameters (the limit is"),  # ~92 TB if allocated
        (_arch("spectral_norm", "yes"), "must be true or false"),
    ],
)
def test_broken_configs(tmp_path: Path, capsys: pytest.CaptureFixture, edit, message: str) -> None:
    folder = _weights_with(tmp_path, edit)
    out = tmp_path / "o.png"
    assert main(["generate", "--weights", str(folder), "--labels", str(SCENE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "config.json" in err and "Traceback" not in err
    assert not out.exists()


def test_generate_refuses_bad_outputs_before_synthesis(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    labels = tmp_path / "map.png"
    shutil.copy(SCENE, labels)
    before = labels.read_bytes()
    base = ["generate", "--weights", str(WEIGHTS / "landscapes-oasis"), "--labels", str(labels)]
    for out, message in [
        (labels, "is the input label map"),
        (tmp_path, "is a folder"),
        (tmp_path / "o.xyz", "unknown image type '.xyz'"),
        (tmp_path / "noext", "unknown image type '(no extension)'"),
    ]:
        assert main([*base, "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
    assert labels.read_bytes() == before


def test_huge_seeds_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["generate", "--weights", str(WEIGHTS / "landscapes-oasis"), "--labels", str(SCENE)]
    with pytest.raises(SystemExit) as info:
        main([*base, "--out", str(tmp_path / "o.png"), "--seed", "9" * 5000])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "is not a seed" in err and len(err) < 2000


def test_pixel_bombs_are_refused_before_decoding(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    bomb = tmp_path / "bomb.png"
    Image.new("L", (9000, 8000)).save(bomb)  # 72 MP of zeros: a few hundred KB on disk
    base = ["--weights", str(WEIGHTS / "landscapes-oasis")]
    assert main(["segment", *base, "--image", str(bomb), "--out", str(tmp_path / "s.png")]) == 2
    assert main(["generate", *base, "--labels", str(bomb), "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("9000×8000 = 72 megapixels, above the limit of 67") == 2 and "TESSERA_MAX_PIXELS" in err


def test_damaged_run_folders(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import torch

    run = tmp_path / "run"
    run.mkdir()
    (run / "options.json").write_text('{"bad": ')
    assert main(["fit", "--resume", "--out", str(run)]) == 2
    assert "options.json is not valid JSON" in capsys.readouterr().err
    (run / "options.json").write_text("[1]")
    assert main(["export", "--run", str(run), "--out", str(tmp_path / "w")]) == 2
    assert "holds a JSON list" in capsys.readouterr().err
    shutil.copy(WEIGHTS / "landscapes-oasis" / "config.json", run / "model.json")
    (run / "options.json").write_text(json.dumps({"data": "folder:x", "out": str(run)}))
    torch.save(torch.zeros(3), run / "checkpoint.pt")
    assert main(["export", "--run", str(run), "--out", str(tmp_path / "w")]) == 2
    assert "not a Tessera training checkpoint" in capsys.readouterr().err


def test_synthesis_too_large_for_memory_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.limits

    monkeypatch.setattr(engine.limits, "available_memory", lambda: 50 * 2**20)  # 50 MiB free
    out = tmp_path / "o.png"
    base = ["generate", "--weights", str(WEIGHTS / "landscapes-oasis"), "--labels", str(SCENE)]
    assert main([*base, "--out", str(out)]) == 2
    assert "synthesising 256×256 needs about 0.1 GiB of memory; 0.0 GiB are free" in capsys.readouterr().err
    assert not out.exists()
