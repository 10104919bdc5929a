"""Split orientation, schema dtypes, digests and snapshot files."""

import gzip
import json
import math
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema


def _groups():
    return frame.from_columns(
        "server_groups",
        {
            "id": ["g1", "g2"],
            "name": ["a", None],
            "policy": ["affinity", "anti-affinity"],
            "members": [["s1"], []],
            "max_server_per_host": [None, 2],
            "project_id": ["p", "p"],
        },
    )


def test_from_columns_applies_schema_dtypes_and_fills():
    df = _groups()
    assert list(df.columns) == schema.columns("server_groups")
    assert str(df["max_server_per_host"].dtype) == "int64" and list(df["max_server_per_host"]) == [0, 2]
    assert df["name"].isna().tolist() == [False, True]
    with pytest.raises(ValueError, match="differ in length"):
        frame.from_columns("server_groups", {"id": ["a"], "name": []})
    with pytest.raises(KeyError):
        frame.from_columns("nope", {})


def test_split_round_trip_is_json_safe():
    df = _groups()
    split = frame.to_split(df)
    assert split["columns"] == schema.columns("server_groups")
    assert split["data"][1] == ["g2", None, "anti-affinity", [], 2, "p"]
    json.dumps(split, allow_nan=False)
    back = frame.from_split(json.loads(json.dumps(split)), "server_groups")
    pd.testing.assert_frame_equal(back, df)


def test_float_nan_and_numpy_values_become_plain_json():
    df = frame.from_columns("pools", {"name": ["p"], "total_capacity_gb": [float("nan")], "volume_types": [["a"]]})
    split = frame.to_split(df)
    row = dict(zip(split["columns"], split["data"][0]))
    assert row["total_capacity_gb"] is None and row["thin_provisioning"] is False
    json.dumps(split, allow_nan=False)
    assert math.isnan(frame.from_split(split, "pools")["total_capacity_gb"][0])


def test_from_split_rejects_bad_shapes():
    with pytest.raises(ValueError, match="split orientation"):
        frame.from_split([{"id": "x"}], "server_groups")
    with pytest.raises(ValueError, match="row 0 has 1 values for 2 columns"):
        frame.from_split({"columns": ["id", "name"], "data": [["x"]]}, "server_groups")


def test_digest_is_stable_and_ignores_meta_and_key_order():
    a = frame.dump_model({"server_groups": _groups()}, {"cloud": "one"})
    b = frame.dump_model({"server_groups": frame.to_split(_groups())}, {"cloud": "two"})
    assert a["meta"]["digest"] == b["meta"]["digest"] and a["meta"]["digest"].startswith("sha256:")
    reordered = dict(reversed(list(a.items())))
    assert frame.model_digest(reordered) == a["meta"]["digest"]
    changed = frame.to_split(_groups())
    changed["data"][0][4] = 3
    assert frame.model_digest({"server_groups": changed}) != a["meta"]["digest"]


def test_load_model_gives_frames_for_known_tables():
    model = frame.dump_model({"server_groups": _groups()})
    model["future_table"] = {"columns": ["x"], "data": [[1]]}
    tables = frame.load_model(model)
    assert set(tables) == {"server_groups"}
    pd.testing.assert_frame_equal(tables["server_groups"], _groups())


def test_snapshot_round_trip_mode_0600_and_tamper_detection(tmp_path):
    path = tmp_path / "model.json.gz"
    model = frame.dump_model({"server_groups": _groups()}, {"cloud": "c"})
    digest = frame.save_snapshot(str(path), model)
    assert digest == model["meta"]["digest"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = frame.load_snapshot(str(path))
    assert loaded["server_groups"] == model["server_groups"] and loaded["meta"]["cloud"] == "c"
    payload = json.loads(gzip.open(path).read())
    payload["model"]["server_groups"]["data"][0][1] = "tampered"
    with gzip.open(path, "wb") as fh:
        fh.write(json.dumps(payload).encode())
    with pytest.raises(ValueError, match="digest mismatch"):
        frame.load_snapshot(str(path))
    assert frame.load_snapshot(str(path), verify=False)["server_groups"]["data"][0][1] == "tampered"
    (tmp_path / "junk").write_text("not gzip")
    with pytest.raises(ValueError, match="not a vigil snapshot"):
        frame.load_snapshot(str(tmp_path / "junk"))


def test_schema_markdown_lists_every_column():
    md = schema.to_markdown()
    for table, cols in schema.TABLES.items():
        assert "## %s" % table in md
        for col in cols:
            assert "| `%s` |" % col.name in md


def test_docs_model_md_tables_are_generated_from_schema():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text()
    assert schema.update_markdown(doc) == doc, "docs/model.md is stale: regenerate it (command in the file)"
