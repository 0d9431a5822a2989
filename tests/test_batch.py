"""Batch studies (lobutils.runner.batch): grids, hashes, Dask execution, failures, resume, tables.

The chapters here are tiny synthetic ones written to tmp (as in test_chapters.py). One
LocalCluster with two worker processes serves the whole module.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from lobutils import paths
from lobutils.runner import batch, cli

# Writes nested metrics and a results table; fails (ZeroDivisionError) when N == 3.
SYNTHETIC = """\
# %% [markdown]
# # A synthetic batch chapter

# %% tags=["parameters"]
N = 1
LABEL = "a"
SLEEP = 0.0
REPORT_DIR = None

# %%
import time

import pandas as pd

from lobutils.paths import report_dir, write_metrics

out = report_dir("90_synthetic", REPORT_DIR)
time.sleep(SLEEP)

# %%
inverse = 1 / (N - 3)
pd.DataFrame({"k": [1, 2], "v": [N, 2 * N]}).to_csv(out / "results.csv", index=False)
write_metrics(out, {"n": N, "nested": {"label": LABEL, "pair": [N, N + 1]}, "ok": N > 1})
"""


def write_chapter(tmp_path, name="90_synthetic", text=SYNTHETIC):
    src = tmp_path / "notebooks" / f"{name}.py"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(textwrap.dedent(text))
    return src


@pytest.fixture(autouse=True)
def frozen_package(monkeypatch):
    """Pin the lobutils part of the code version (the chapter's part still counts).

    Edits to lobutils between two calls of a test would rightly make every run stale; the
    tests here are about the runner, so they hold the package still.
    """
    monkeypatch.setattr(batch.grid, "_package_digest", lambda: "lobutils-under-test")


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


# ------------------------------------------------------------------------------ the grid


def test_grid_expansion_known_answer(tmp_path):
    src = write_chapter(tmp_path)
    spec = {
        "chapter": str(src),
        "parameters": {"SLEEP": 0.0},
        "grid": {"N": [1, 2], "LABEL": ["a", "b"]},
        "runs": [{"N": 7, "LABEL": "z"}, {"N": 1, "LABEL": "a"}],  # the second repeats a run
        "as_list": ["LABEL"],
        "timeout": 30,
    }
    runs = batch.expand_grid(spec)
    assert [(r.labels["N"], r.labels["LABEL"]) for r in runs] == [
        (1, "a"),
        (1, "b"),
        (2, "a"),
        (2, "b"),
        (7, "z"),
    ]
    assert runs[1].parameters == {"LABEL": ["b"], "N": 1, "SLEEP": 0.0}
    assert runs[1].labels == {"LABEL": "b", "N": 1, "SLEEP": 0.0}
    assert {r.chapter for r in runs} == {"90_synthetic"} and runs[0].timeout == 30.0
    assert len({r.params_hash for r in runs}) == 5

    # several chapters: the same grid on each; studies: a grid per chapter
    other = write_chapter(tmp_path, "91_other")
    two = batch.expand_grid({"chapter": [str(src), str(other)], "grid": {"N": [1, 2]}})
    assert [(r.chapter, r.labels["N"]) for r in two] == [
        ("90_synthetic", 1),
        ("90_synthetic", 2),
        ("91_other", 1),
        ("91_other", 2),
    ]
    studies = batch.expand_grid(
        {
            "studies": [
                {"chapter": str(src), "grid": {"N": [1, 2]}},
                {"chapter": str(other), "runs": [{"N": 5}]},
            ]
        }
    )
    assert [(r.chapter, r.labels["N"]) for r in studies] == [
        ("90_synthetic", 1),
        ("90_synthetic", 2),
        ("91_other", 5),
    ]


def test_grid_errors(tmp_path):
    src = str(write_chapter(tmp_path))
    with pytest.raises(ValueError, match="not in its parameters cell"):
        batch.expand_grid({"chapter": src, "grid": {"M": [1]}})
    with pytest.raises(ValueError, match="REPORT_DIR is set by the batch runner"):
        batch.expand_grid({"chapter": src, "parameters": {"REPORT_DIR": "x"}})
    with pytest.raises(ValueError, match="unknown keys"):
        batch.expand_grid({"chapter": src, "gird": {"N": [1]}})
    with pytest.raises(ValueError, match="non-empty list"):
        batch.expand_grid({"chapter": src, "grid": {"N": 3}})
    with pytest.raises(ValueError, match="both fixed parameters and grid axes"):
        batch.expand_grid({"chapter": src, "parameters": {"N": 1}, "grid": {"N": [1]}})
    with pytest.raises(FileNotFoundError):
        batch.expand_grid({"chapter": str(tmp_path / "nope.py")})


def test_load_grid_file_and_run_id(tmp_path):
    write_chapter(tmp_path)
    f = tmp_path / "my_study.yaml"
    # chapter paths are relative to the grid file
    f.write_text("chapter: notebooks/90_synthetic.py\ngrid:\n  N: [1, 2]\n")
    rid, runs, spec = batch.load_grid(f)
    assert rid == "my_study" and len(runs) == 2 and spec["grid"] == {"N": [1, 2]}
    assert batch.load_grid(f, run_id="other")[0] == "other"
    with pytest.raises(ValueError, match="run id"):
        batch.load_grid(f, run_id="../escape")


def test_params_hash_is_stable(tmp_path):
    # a known answer: changing how runs are named would orphan every finished run
    assert batch.params_hash("06_ml_zoo", {"HORIZONS": [1], "N_BOOT": 50}) == "38e3fbcfe27b"
    a = batch.params_hash("90_synthetic", {"N": 1, "LABEL": ["a"], "X": {"b": 1, "a": 2}})
    b = batch.params_hash(
        "notebooks/90_synthetic.py", {"X": {"a": 2, "b": 1}, "LABEL": ("a",), "N": 1}
    )
    assert a == b
    assert a != batch.params_hash("90_synthetic", {"N": 2, "LABEL": ["a"], "X": {"b": 1, "a": 2}})
    assert a != batch.params_hash("91_synthetic", {"N": 1, "LABEL": ["a"], "X": {"b": 1, "a": 2}})
    # the same in another interpreter (no per-process hash seed)
    code = "from lobutils.runner import batch; print(batch.params_hash('x', {'N': 1, 'L': ['a']}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == batch.params_hash("x", {"L": ["a"], "N": 1})
    # the code version follows the chapter's source
    src = write_chapter(tmp_path)
    v1 = batch.code_version(src)
    src.write_text(src.read_text() + "\n# an edit\n")
    assert batch.code_version(src) != v1


def test_flatten_and_wide():
    rows = batch.flatten_metrics({"a": {"b": [1, {"c": "x"}]}, "d": None, "e": False, "f": {}})
    assert [r[0] for r in rows] == ["a.b.0", "a.b.1.c", "d", "e"]
    assert rows[1][2] == "x" and rows[3][1] == 0.0


# ------------------------------------------------------------------------------ running


def test_batch_failures_resume_and_tables(tmp_path, client):
    src = write_chapter(tmp_path)
    root = tmp_path / "runs"
    spec = {
        "chapter": str(src),
        "grid": {"N": [1, 2, 3, 4]},
        "as_list": ["LABEL"],
        "parameters": {"LABEL": "a"},
    }
    runs = batch.expand_grid(spec)

    # part of the grid first (as if an earlier batch stopped after two runs)
    first = batch.run_batch(runs[:2], run_id="study", root=root, client=client, progress=False)
    assert first.runs["status"].tolist() == ["ok", "ok"] and first.ok

    t0 = time.perf_counter()
    res = batch.run_batch(spec, run_id="study", root=root, client=client, progress=False)
    assert time.perf_counter() - t0 < 60
    assert res.runs["N"].tolist() == [1, 2, 3, 4]
    assert res.runs["status"].tolist() == ["cached", "cached", "failed", "ok"]
    assert not res.ok and len(res.failed) == 1

    # the failure names the cell and keeps the partial notebook, without a done marker
    fail = res.summary()["failures"][0]
    assert fail["parameters"] == {"LABEL": "a", "N": 3}
    assert "line 21 of 90_synthetic.py" in fail["cell"], fail
    assert "inverse = 1 / (N - 3)" in fail["cell"] and "ZeroDivisionError" in fail["cell"]
    folder = root / "study" / fail["params_hash"]
    nb = json.loads((folder / "90_synthetic.ipynb").read_text())
    assert any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))
    assert not (folder / batch.DONE_FILE).exists()
    record = json.loads((folder / batch.RUN_FILE).read_text())
    assert record["status"] == "failed" and record["failed_cell"]["ename"] == "ZeroDivisionError"
    # every message names the same cell: the chapter runner's error and the batch's summary
    named = re.findall(r"cell (\d+) of the executed notebook", record["error"] + fail["cell"])
    assert len(named) == 2 and len(set(named)) == 1, (record["error"], fail["cell"])
    shown = [
        c for c in nb["cells"] if "papermill-error-cell-tag" not in c["metadata"].get("tags", [])
    ]
    assert "1 / (N - 3)" in "".join(shown[int(named[0])]["source"])

    # one tidy metrics table, with the parameters as columns, in parquet and csv
    m = pd.read_parquet(root / "study" / "metrics.parquet")
    assert {"chapter", "params_hash", "N", "LABEL", "metric", "value", "text"} <= set(m.columns)
    assert sorted(m["N"].unique().tolist()) == [1, 2, 4]
    pair = m[m["metric"] == "nested.pair.1"].set_index("N")["value"].to_dict()
    assert pair == {1: 2.0, 2: 3.0, 4: 5.0}
    # LABEL went in as ["a"] (as_list): the chapter wrote a list, the column shows "a"
    assert set(m.loc[m["metric"] == "nested.label.0", "text"]) == {"a"}
    assert set(m["LABEL"]) == {"a"}
    assert len(pd.read_csv(root / "study" / "metrics.csv")) == len(m)
    wide = batch.metrics_wide(m)
    assert wide.set_index("N")["n"].to_dict() == {1: 1.0, 2: 2.0, 4: 4.0}
    runs_table = pd.read_csv(root / "study" / "runs.csv")
    assert runs_table["status"].tolist() == ["cached", "cached", "failed", "ok"]
    assert json.loads((root / "study" / "summary.json").read_text())["failed"] == 1

    # tables written by each run, gathered with the parameter columns in front
    t = res.table("results.csv")
    assert t.columns[:4].tolist() == ["chapter", "params_hash", "LABEL", "N"]
    assert t.groupby("N")["v"].sum().to_dict() == {1: 3, 2: 6, 4: 12}

    # rerun: the finished runs are skipped, the failed one is tried again
    again = batch.run_batch(spec, run_id="study", root=root, client=client, progress=False)
    assert again.runs["status"].tolist() == ["cached", "cached", "failed", "cached"]
    # force reruns everything of a (one-run) grid
    forced = batch.run_batch(
        runs[:1], run_id="study", root=root, client=client, force=True, progress=False
    )
    assert forced.runs["status"].tolist() == ["ok"]


def test_a_batch_killed_mid_grid_resumes(tmp_path, client, monkeypatch):
    """Kill a real `python -m lobutils batch` after its first run, then resume."""
    write_chapter(tmp_path)
    grid = tmp_path / "killed.yaml"
    grid.write_text(
        "chapter: notebooks/90_synthetic.py\nparameters: {SLEEP: 1.5}\ngrid:\n  N: [1, 2, 4, 5]\n"
    )
    root = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "lobutils",
        "batch",
        str(grid),
        "--root",
        str(root),
        "--workers",
        "1",
        "--threads",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not list(root.glob("killed/*/done")):
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = {p.parent.name for p in root.glob("killed/*/done")}
    assert 1 <= len(finished) < 4, "the batch should have been killed mid-grid"
    # the subprocess hashed the real package: resume at its code version
    (version,) = {json.loads(p.read_text())["code_version"] for p in root.glob("killed/*/done")}
    monkeypatch.setattr(batch.driver, "code_version", lambda source: version)

    res = batch.run_batch(grid, root=root, client=client, progress=False)
    status = dict(zip(res.runs["params_hash"], res.runs["status"], strict=True))
    assert {h for h, s in status.items() if s == "cached"} == finished
    assert {s for h, s in status.items() if h not in finished} == {"ok"}


def test_stale_or_edited_runs_are_rerun(tmp_path, client):
    src = write_chapter(tmp_path)
    root = tmp_path / "runs"
    runs = batch.expand_grid({"chapter": str(src), "runs": [{"N": 4}]})
    folder = runs[0].folder(root / "r")
    # an interrupted run: a folder with a partial notebook, no done marker
    folder.mkdir(parents=True)
    (folder / "90_synthetic.ipynb").write_text("{}")
    assert batch.plan(runs, root / "r")["will_run"].tolist() == [True]
    res = batch.run_batch(runs, run_id="r", root=root, client=client, progress=False)
    assert res.runs["status"].tolist() == ["ok"]
    assert batch.plan(runs, root / "r")["done"].tolist() == [True]
    # a new code version (the chapter changed) invalidates the marker
    src.write_text(src.read_text() + "\n# edited\n")
    assert batch.plan(runs, root / "r")["done"].tolist() == [False]


def test_cli_batch(tmp_path, capsys):
    write_chapter(tmp_path)
    grid = tmp_path / "cli_grid.yaml"
    grid.write_text("chapter: notebooks/90_synthetic.py\nruns:\n  - {N: 3}\n")
    root = str(tmp_path / "runs")
    assert cli.main(["batch", str(grid), "--root", root, "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["runs"] == 1 and plan["to_run"] == 1 and plan["plan"][0]["parameters"] == {"N": 3}
    with pytest.raises(SystemExit) as exit_:
        cli.main(
            ["batch", str(grid), "--root", root, "--workers", "1", "--threads", "--no-progress"]
        )
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "1 failed" in out and "FAILED" in out and "ZeroDivisionError" in out
    assert "line 21 of 90_synthetic.py" in out


# ------------------------------------------------------------------------------ partitions


def _inverse(item):
    return {"inverse": 1 / item["x"]}


def test_map_partitions_collects_failures(client):
    items = [{"x": 1}, {"x": 0}, {"x": 4}]
    res = batch.map_partitions(_inverse, items, client, progress=False)
    assert res.results == [{"inverse": 1.0}, None, {"inverse": 0.25}]
    assert list(res.errors) == [1] and res.errors[1].startswith("ZeroDivisionError")
    assert not res.ok and res.failed["position"].tolist() == [1]
    assert res.frame().to_dict("records") == [{"x": 1, "inverse": 1.0}, {"x": 4, "inverse": 0.25}]


def test_lake_items(tmp_path):
    from lobutils.data import lake
    from lobutils.data.binance import read_binance_recording
    from lobutils.data.catalog import segment

    rec = read_binance_recording(segment("usdm_ethusdt").files)
    lake.write_recording(tmp_path, "binance-futures", rec)
    items = batch.lake_items(tmp_path)
    assert [(i["exchange"], i["symbol"], i["date"]) for i in items] == [
        ("binance-futures", "ethusdt", "2024-08-08"),
        ("binance-futures", "ethusdt", "2024-08-09"),
    ]
    assert batch.lake_items(tmp_path, start="2024-08-09") == items[1:]


def test_runs_root_follows_reports_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.REPORTS_ENV, str(tmp_path))
    assert batch.runs_root("x") == tmp_path.resolve() / "runs" / "x"
