"""lobutils.runner.digest: the counts and sentences of the batch chapter (synthetic tables)."""

import pandas as pd

from lobutils.runner import digest


def _runs():
    """A synthetic runs table: two finished runs, one reused, two failures."""
    return pd.DataFrame(
        {
            "status": ["ok", "ok", "cached", "failed", "failed"],
            "seconds": [10.0, 20.0, None, 5.0, 4.0],
            "SEGMENTS": ["a", "b", "c", "d", "e"],
            "HORIZONS": [1, 1, 1, 60, 60],
            "notebook": ["n1", "n2", "n3", "n4", "n5"],
            "failed_cell": [None, None, None, "cell 12: purge and embargo left no rows", None],
            "error": [None, None, None, "ValueError", "KeyError: x"],
        }
    )


def test_run_counts_parts_add_up():
    c = digest.run_counts(_runs())
    assert c == {"runs": 5, "executed": 4, "ok": 2, "failed": 2, "cached": 1}
    assert c["ok"] + c["failed"] == c["executed"]
    assert c["executed"] + c["cached"] == c["runs"]


def test_failure_text_lists_each_failure_and_explains_short_recordings():
    text = digest.failure_text(_runs())
    assert "**2 run(s) failed**" in text
    assert "- d at 60: `n4`, cell 12: purge and embargo left no rows" in text
    assert "- e at 60: `n5`, KeyError: x" in text
    assert text.count("1 of them fail for the same reason") == 1
    assert "39 s of worker time" in text  # 10 + 20 + 5 + 4


def test_beat_counts_and_text():
    rows = pd.DataFrame(
        {
            "horizon": ["1s", "1s", "10s", "10s"],
            "model": ["linear", "xgboost"] * 2,
            "beats_baseline": [True, False, None, True],
        }
    )
    c = digest.beat_counts(rows)
    assert (c["n"], c["beat"]) == (4, 2)
    assert c["by_model"].loc["linear"].tolist() == [1, 2]
    text = digest.beat_text(c)
    assert "By horizon: 1s: 1 of 2, 10s: 1 of 2." in text
    assert "about 0.1 would" in text


def test_kind_medians_and_text():
    rows = pd.DataFrame(
        {
            "market": ["spot", "usdm", "cm", "spot"],
            "horizon": ["1s"] * 4,
            "value": [0.1, 0.3, 0.2, 0.3],
        }
    )
    med = digest.kind_medians(rows)
    assert med["1s"].round(3).to_dict() == {
        "spot": 0.2,
        "perpetual (usd-m)": 0.3,
        "perpetual (coin-m)": 0.2,
    }
    assert "(the largest gap is 0.100)" in digest.kind_text(med)
