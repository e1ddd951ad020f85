"""The model card names the objective (and any beyond-paper option) and how to recreate the data."""

from __future__ import annotations

import json
from pathlib import Path

from engine.cards import EVAL_BEGIN, EVAL_END
from engine.encoding import default_channel_ids
from engine.labels import LabelSet
from engine.networks.oasis import OasisConfig
from engine.registry import ModelSpec
from engine.train.export import _card


def test_card_states_objective_and_data_recipe(tmp_path: Path) -> None:
    (tmp_path / "dataset.json").write_text(
        json.dumps({"source": {"renderer": "engine.data.landscapes", "seeds": [0, 2999], "size": [128, 128]}})
    )
    ls = LabelSet.builtin("landscapes")
    ids = default_channel_ids(ls.ids, ls.dontcare)
    spec = ModelSpec("oasis", ls, ids, None, (128, 128), OasisConfig.small(len(ids)))
    provenance = {
        "data": f"landscapes:{tmp_path}", "train_images": 2400, "command": "app-train fit …", "steps": 10,
        "batch": 4, "wall_time_s": 60.0, "hardware": "CPU", "precision": "fp32", "bn_batches": 5,
        "options": {"lambda_pair_l1": 2.0, "pair_pool": 8},
    }  # fmt: skip
    card = _card(spec, provenance)
    assert "app-train data landscapes --out DIR --count 3000 --size 128 --seed 0" in card
    assert "beyond the paper" in card and "×2.0" in card and "8×8" in card
    assert card.index(EVAL_BEGIN) < card.index(EVAL_END)
    provenance["options"] = {"lambda_pair_l1": 0.0}
    assert "beyond the paper" not in _card(spec, provenance)


def test_paths_inside_the_project_become_relative() -> None:
    from engine.paths import REPO_ROOT, portable

    command = f"app-train fit --data landscapes:{REPO_ROOT}/data/land256 --out {REPO_ROOT}/runs/x"
    assert portable(command) == "app-train fit --data landscapes:data/land256 --out runs/x"
    assert portable("landscapes:/elsewhere/data") == "landscapes:/elsewhere/data"
