"""The leakage audit's models: a chronological split, and a linear model of past returns.

Chapter 4 asks how much of a smoothed target is known when the prediction is made
(:func:`lobutils.features.analysis.ema_known_part`), and what that does to a model's apparent
skill. This module holds the modelling side of that question, measured with the protocol of
:mod:`lobutils.evaluation`:

- :func:`chrono_split`: a chronological train/test cut with the purged training rows removed;
- :func:`ols_forecast`: least squares of a target on past returns, fitted on training rows;
- :func:`skill_rows`: out-of-sample :math:`R^2` against the zero forecast, with block-bootstrap
  intervals;
- :func:`ema_skill`: the five cases of chapter 4 (apparent skill, real skill, the known part).

Examples
--------
>>> ts = np.arange(10) * 1_000_000_000
>>> train, test, cut = chrono_split(ts, 1_000_000_000, train_fraction=0.5)
>>> int(train.sum()), int(test.sum())
(4, 5)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.features.analysis import ema_known_part

__all__ = ["chrono_split", "ema_skill", "ols_forecast", "skill_rows"]


def chrono_split(
    ts: np.ndarray, horizon_ns: int, train_fraction: float = 0.7
) -> tuple[np.ndarray, np.ndarray, int]:
    """Train and test masks of a chronological cut, with the purged training rows removed.

    The cut lies at ``train_fraction`` of the time span. Training rows whose target (``horizon_ns``
    ahead) reaches past the cut are purged: they are in neither mask.

    Parameters
    ----------
    ts : numpy.ndarray
        Row times (int64 ns), increasing.
    horizon_ns : int
        How far each row's target looks ahead (ns).
    train_fraction : float, default 0.7
        Share of the time span before the cut.

    Returns
    -------
    train : numpy.ndarray of bool
        Training rows, purged.
    test : numpy.ndarray of bool
        Rows at or after the cut.
    cut : int
        The cut time (ns).

    Examples
    --------
    >>> tr, te, cut = chrono_split(np.arange(10) * 10, 20, train_fraction=0.5)
    >>> np.flatnonzero(tr).tolist(), np.flatnonzero(te).tolist(), cut
    ([0, 1, 2], [5, 6, 7, 8, 9], 45)
    """
    ts = np.asarray(ts)
    cut = int(ts[0] + train_fraction * (ts[-1] - ts[0]))
    rows = np.arange(ts.size)
    train = ev.purge_embargo(rows[ts < cut], rows[ts >= cut], ts, horizon=horizon_ns)
    train_mask = np.zeros(ts.size, dtype=bool)
    train_mask[train] = True
    return train_mask, ts >= cut, cut


def ols_forecast(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Least-squares fit of y on [1, x] over the training rows; forecasts for every row.

    Parameters
    ----------
    x : numpy.ndarray
        Regressors, shape (n, k).
    y : numpy.ndarray
        Target, shape (n,).
    train : numpy.ndarray of bool
        Rows the fit uses (all finite).

    Returns
    -------
    numpy.ndarray
        The fitted line's value at every row.

    Examples
    --------
    >>> x = np.arange(5.0)[:, None]
    >>> ols_forecast(x, 2 * x[:, 0] + 1, np.ones(5, bool)).round(6).tolist()
    [1.0, 3.0, 5.0, 7.0, 9.0]
    """
    design = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(design[train], y[train], rcond=None)
    return design @ beta


def skill_rows(
    cases: Mapping[str, tuple[np.ndarray, np.ndarray]],
    test: np.ndarray,
    config: ev.BootstrapConfig,
) -> list[dict[str, float]]:
    """Out-of-sample :math:`R^2` against the zero forecast, with block-bootstrap intervals.

    Parameters
    ----------
    cases : mapping of str to (target, forecast)
        Each case's target and forecast, full length.
    test : numpy.ndarray of bool
        The rows scored.
    config : lobutils.evaluation.BootstrapConfig
        Block length, resamples and seed of the intervals.

    Returns
    -------
    list of dict
        Per case: ``target``, ``n_test``, ``r2_oos``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> y = np.random.default_rng(0).normal(size=60)  # synthetic
    >>> cfg = ev.BootstrapConfig(block_length=5, n_boot=50, seed=0)
    >>> skill_rows({"perfect": (y, y)}, np.ones(60, bool), cfg)[0]["r2_oos"]
    1.0
    """
    rows = []
    for case, (y, pred) in cases.items():
        ci = ev.block_bootstrap_ci(ev.r2_oos, y[test], pred[test], config=config)
        rows.append(
            {
                "target": case,
                "n_test": int(test.sum()),
                "r2_oos": ci.estimate,
                "ci_low": ci.ci_low,
                "ci_high": ci.ci_high,
            }
        )
    return rows


def ema_skill(
    past: np.ndarray,
    raw: np.ndarray,
    mid: np.ndarray,
    steps: int,
    train: np.ndarray,
    test: np.ndarray,
    *,
    alpha: float = 0.2,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """Apparent and real skill of a linear model of past returns on the EMA target.

    Fits ordinary least squares of the EMA-smoothed target and of the raw forward return on the
    past returns (training rows), and scores five cases on the test rows: ``ema → ema`` (the
    apparent skill), ``raw → raw``, ``ema → raw`` (what a trader earns from), and the
    zero-parameter forecast :math:`K_t` of :func:`ema_known_part` against either target. The
    bootstrap blocks cover the horizon and the EMA's memory (:math:`1/\alpha`), at most a fifth
    of the test rows.

    Parameters
    ----------
    past : numpy.ndarray
        Past returns known at t, shape (n, k).
    raw : numpy.ndarray
        Raw forward returns over ``steps`` rows (bps).
    mid : numpy.ndarray
        The mids on the same grid.
    steps : int
        Horizon in rows.
    train, test : numpy.ndarray of bool
        Purged training rows and test rows.
    alpha : float, default 0.2
        EMA weight.
    n_boot : int, default 1000
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`skill_rows`, one per case.

    Examples
    --------
    >>> rng = np.random.default_rng(0)  # synthetic random walk
    >>> m = np.exp(np.cumsum(rng.normal(0, 1e-4, 400)))
    >>> past = (1e4 * np.log(m / np.r_[m[0], m[:-1]]))[:, None]
    >>> from lobutils.features.targets import forward_returns
    >>> raw = forward_returns(m, events=1)
    >>> t = ema_skill(past, raw, m, 1, np.arange(400) < 250, np.arange(400) >= 260, n_boot=20)
    >>> t.target.tolist()[:3]
    ['ema → ema', 'raw → raw', 'ema → raw']
    """
    s, known = ema_known_part(mid, steps, alpha)
    ok = np.isfinite(past).all(axis=1) & np.isfinite(raw) & np.isfinite(s) & np.isfinite(known)
    train, test = train & ok, test & ok
    pred_ema, pred_raw = ols_forecast(past, s, train), ols_forecast(past, raw, train)
    block = int(min(max(steps, round(1 / alpha)), max(1, test.sum() // 5)))
    config = ev.BootstrapConfig(block_length=block, n_boot=n_boot, seed=0)
    cases = {
        "ema → ema": (s, pred_ema),
        "raw → raw": (raw, pred_raw),
        "ema → raw": (raw, pred_ema),
        "known part → ema": (s, known),
        "known part → raw": (raw, known),
    }
    return pd.DataFrame(skill_rows(cases, test, config))
