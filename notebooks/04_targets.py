# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Targets and labels
#
# A forecasting model is only as honest as its target. This chapter builds the targets the
# models of later chapters predict: forward returns of the mid over horizons in seconds and in
# events, their distributions, and the labels made from them (up/down, down/flat/up, and the
# smoothed labels of DeepLOB). It then audits one popular target, the exponentially smoothed
# forward return of seed 004, and measures how much of it is already known when the prediction
# is made.
#
# **Learning objectives.** After this chapter you can
#
# - compute forward returns over a horizon in seconds or in events, and say why the last rows
#   have none;
# - make binary and 3-class labels, fit the 3-class threshold on training rows only, and report
#   the class balance;
# - cut a sample chronologically into train and test, and purge the training rows whose target
#   reaches into the test period;
# - explain why a smoothed target can be partly known at prediction time, measure the known
#   share exactly, and see how it inflates a model's apparent skill.
#
# **Prerequisites.** Chapter 3 (features, `lobutils.book.market.load_market`). Least squares and
# $R^2$.
#
# **Outputs.** The tables and figures below, and `reports/04_targets/metrics.json` with the class
# balance per label type and the leakage-audit numbers per market and horizon.

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils import features as F
from lobutils.book.market import load_market
from lobutils.data import segment, segments
from lobutils.features import targets as T
from lobutils.paths import report_dir, write_metrics
from lobutils.plots import features as plots

# %% tags=["parameters"]
DATA_DIR = None  # a directory of Binance recordings (None: the bundled data)
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"] (None: every segment found)
LEVELS = 10  # book levels per side (only the best level matters here)
GRID = "1s"  # clock-grid step
HORIZONS_S = [1, 10, 60]  # forward-return horizons on the clock grid (s)
HORIZONS_EVENTS = [10, 100]  # forward-return horizons in event time (book updates)
TRAIN_FRACTION = 0.7  # the first 70 % of each market's time span is training data
THRESHOLD_K = 1.0  # 3-class threshold: THRESHOLD_K x std of the training returns
EMA_ALPHA = 0.2  # seed 004's smoothing weight
PAST_LOOKBACKS_S = [1, 5, 10, 30, 60]  # past returns a simple model may use (s)
N_BOOT = 1000  # block-bootstrap resamples for the confidence intervals
SHOWCASE = None  # the market of the one-market figures (None: the first)
REPORT_DIR = None  # where metrics.json goes (None: reports/04_targets/)

# %% [markdown]
# ## 1. The markets
#
# As in chapter 3: every segment's book in event time and on the clock grid. Here only the mid
# matters.

# %%
chosen = segments(DATA_DIR) if SEGMENTS is None else [segment(n, DATA_DIR) for n in SEGMENTS]
markets = {seg.name: load_market(seg, levels=LEVELS, grid=GRID) for seg in chosen}
show = markets[SHOWCASE] if SHOWCASE is not None else next(iter(markets.values()))
grid_ns = pd.Timedelta(GRID).value
mids = {
    name: F.mid(mk.clock["bid_px_1"].to_numpy(), mk.clock["ask_px_1"].to_numpy())
    for name, mk in markets.items()
}
print({name: len(m) for name, m in mids.items()})

# %% [markdown]
# ## 2. Horizons in seconds and in events
#
# The **forward return** over a horizon $h$ is the log change of the mid from now to $h$ later,
# in basis points:
#
# $$ r_t(h) = 10^4 \log \frac{m_{t+h}}{m_t}. $$
#
# In clock time $m_{t+h}$ is the book in force $h$ seconds later. In event time it is the mid
# $h$ book updates later. Rows whose horizon runs past the end of the data get NaN, never a
# shorter horizon. `forward_returns` is the only function in `lobutils` that looks forward.

# %%
fwd_clock = {
    name: {
        h: T.forward_returns(mids[name], ts=mk.clock["ts"].to_numpy(), seconds=h)
        for h in HORIZONS_S
    }
    for name, mk in markets.items()
}
event_mids = {
    name: F.mid(mk.events["bid_px_1"].to_numpy(), mk.events["ask_px_1"].to_numpy())
    for name, mk in markets.items()
}
fwd_events = {
    name: {h: T.forward_returns(event_mids[name], events=h) for h in HORIZONS_EVENTS}
    for name in markets
}

horizon_rows = []
for name, mk in markets.items():
    span_s = (mk.clock["ts"].iloc[-1] - mk.clock["ts"].iloc[0]) / 1e9
    for h in HORIZONS_S:
        r = fwd_clock[name][h]
        horizon_rows.append(
            {
                "segment": name,
                "horizon": f"{h} s",
                "rows with a target": int(np.isfinite(r).sum()),
                "independent horizons": span_s / h,
                "share exactly 0": np.mean(r[np.isfinite(r)] == 0),
                "std (bps)": np.nanstd(r),
            }
        )
    ets = mk.events["ts"].to_numpy()
    for h in HORIZONS_EVENTS:
        r = fwd_events[name][h]
        horizon_rows.append(
            {
                "segment": name,
                "horizon": f"{h} events",
                "rows with a target": int(np.isfinite(r).sum()),
                "independent horizons": len(ets) / h,
                "share exactly 0": np.mean(r[np.isfinite(r)] == 0),
                "std (bps)": np.nanstd(r),
                "median duration (s)": np.median(ets[h:] - ets[:-h]) / 1e9,
            }
        )
horizons = pd.DataFrame(horizon_rows).set_index(["segment", "horizon"])
horizons.round(3)

# %% [markdown]
# Three things to read from this table.
#
# - **Zeros.** At one second, a large share of forward returns is exactly zero: the mid did not
#   move. A binary up/down label must decide what to do with them (section 4).
# - **Independent horizons.** Ten minutes hold about 600 non-overlapping one-second returns,
#   but only ten non-overlapping 60-second returns. Every statistic at 60 s rests on about ten
#   independent numbers.
# - **Event time is not one clock.** The same number of events spans very different durations
#   on different markets (the COIN-M books update several times faster than spot), so an
#   event horizon means something different on each.

# %% [markdown]
# ## 3. Return distributions
#
# The spread of forward returns grows with the horizon, roughly like $\sqrt{h}$ for a random
# walk. The box plots show the middle half (box), the median (line) and the range up to 1.5
# box lengths (whiskers).

# %%
long_returns = pd.concat(
    [
        pd.DataFrame({"segment": name, "horizon": f"{h} s", "return_bps": fwd_clock[name][h]})
        for name in markets
        for h in HORIZONS_S
    ]
    + [
        pd.DataFrame({"segment": name, "horizon": f"{h} ev", "return_bps": fwd_events[name][h]})
        for name in markets
        for h in HORIZONS_EVENTS
    ],
    ignore_index=True,
).dropna()
plots.return_distributions(long_returns, title="forward returns by horizon and market")

# %% [markdown]
# *What to see:* at 1 s and at 10 events the boxes collapse onto zero (most mids do not move);
# at 60 s the returns spread over several bps, and the medians sit away from zero: the
# drift of these few minutes, which no model can learn from a single episode.

# %% [markdown]
# ## 4. A chronological train/test cut
#
# A threshold fitted on the data, a scaler, a model: each must see *training* rows only. With
# time series the test period comes after the training period, and the training rows whose
# target reaches past the cut are **purged**: a row at time $t$ with horizon $h$ uses the mid at
# $t + h$, so a training row with $t + h$ beyond the cut would carry test-period prices into
# training. `lobutils.evaluation.purge_embargo` removes them {cite}`lopezdeprado2018advances`.


# %%
def chrono_split(ts: np.ndarray, horizon_ns: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Train and test masks of a cut at TRAIN_FRACTION of the time span, with purged training rows."""
    cut = int(ts[0] + TRAIN_FRACTION * (ts[-1] - ts[0]))
    rows = np.arange(ts.size)
    train = ev.purge_embargo(rows[ts < cut], rows[ts >= cut], ts, horizon=horizon_ns)
    train_mask = np.zeros(ts.size, dtype=bool)
    train_mask[train] = True
    return train_mask, ts >= cut, cut


h_show = max(HORIZONS_S)
show_ts = show.clock["ts"].to_numpy()
train_mask, test_mask, cut = chrono_split(show_ts, h_show * 1_000_000_000)
purge_from = (
    int(show_ts[~train_mask & ~test_mask].min()) if (~train_mask & ~test_mask).any() else cut
)
plots.train_test_cut(
    show_ts,
    mids[show.name],
    cut,
    purge_from,
    title=f"{show.name}: train, purged and test rows for the {h_show} s horizon",
)

# %% [markdown]
# *What to see:* the grey band before the cut is as long as the horizon. Those rows are neither
# training nor test rows; they are the price of an honest split.

# %% [markdown]
# ## 5. Labels
#
# ### Binary labels with strict inequalities
#
# Up if $r > 0$, down if $r < 0$. A return of exactly zero is neither: `binary_labels` drops
# those rows (`no_change="drop"`) or folds them into a "not up" class (`"keep"`). Either way the
# choice must be reported, because it changes the class balance.

# %%
r10 = fwd_clock[show.name][10 if 10 in HORIZONS_S else HORIZONS_S[0]]
pd.concat(
    {
        "drop": T.binary_labels(r10, no_change="drop").balance(),
        "keep": T.binary_labels(r10, no_change="keep").balance(),
    },
    names=["no_change"],
).round(3)

# %% [markdown]
# ### Three classes with a training-only threshold
#
# Down if $r < -c$, flat if $|r| \le c$, up if $r > c$, with $c = k \cdot \sigma_{\text{train}}$:
# $k$ times the standard deviation of the *training* returns. Fitting $c$ on all rows would let
# the test period's volatility decide the test labels. `fit_threshold` takes the training mask
# and records what it was fitted on.

# %%
threshold_rows = []
for name, mk in markets.items():
    ts = mk.clock["ts"].to_numpy()
    for h in HORIZONS_S:
        r = fwd_clock[name][h]
        tr, te, _ = chrono_split(ts, h * 1_000_000_000)
        thr = T.fit_threshold(r, tr, k=THRESHOLD_K)
        lab = T.three_class_labels(r, threshold=thr)
        for part, mask in (("train", tr), ("test", te)):
            counts = np.bincount(lab.codes[mask & lab.valid], minlength=3)
            threshold_rows.append(
                {
                    "segment": name,
                    "horizon_s": h,
                    "part": part,
                    "threshold (bps)": thr.value,
                    **dict(zip(lab.classes, counts / counts.sum(), strict=True)),
                }
            )
thresholds = pd.DataFrame(threshold_rows).set_index(["segment", "horizon_s", "part"])
thresholds.round(3)

# %% [markdown]
# The same threshold gives different class shares in the two periods whenever the volatility
# changed between them, and on a few minutes of data it often does. The test-period shares are
# the honest ones to compare a classifier against: always predicting the most common test class
# is the baseline.

# %% [markdown]
# ### DeepLOB's smoothed labels
#
# DeepLOB {cite}`zhang2019deeplob` and the FI-2010 benchmark {cite}`ntakaris2018benchmark` label
# the mean of the next $k$ mids against a reference:
#
# $$ \ell_t = 10^4 \log \frac{m^+_t}{m^{\text{ref}}_t}, \qquad m^+_t = \frac{1}{k} \sum_{i=1}^{k} m_{t+i}, $$
#
# with $m^{\text{ref}}_t = m_t$ (`reference="current"`, FI-2010) or the mean of the last $k$
# mids, $m_t$ included (`reference="past"`, DeepLOB). Averaging removes some noise from the
# label. With `"past"`, part of the label, $\log(m_t / m^{\text{ref}}_t)$, is known at $t$: we
# come back to that in the audit.

# %%
balance_rows = []
for name, mk in markets.items():
    ts = mk.clock["ts"].to_numpy()
    for h in HORIZONS_S:
        k = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, _, _ = chrono_split(ts, h * 1_000_000_000)
        raw = fwd_clock[name][h]
        label_sets = {
            "binary (drop zeros)": T.binary_labels(raw, no_change="drop"),
            "binary (keep zeros)": T.binary_labels(raw, no_change="keep"),
            "3-class": T.three_class_labels(raw, train_mask=tr, k=THRESHOLD_K),
            "deeplob current": T.three_class_labels(
                T.smoothed_returns(mids[name], k, reference="current"),
                train_mask=tr,
                k=THRESHOLD_K,
            ),
            "deeplob past": T.three_class_labels(
                T.smoothed_returns(mids[name], k, reference="past"), train_mask=tr, k=THRESHOLD_K
            ),
        }
        for kind, lab in label_sets.items():
            table = lab.balance()
            for cls, row in table.iterrows():
                balance_rows.append(
                    {
                        "segment": name,
                        "horizon_s": h,
                        "labels": kind,
                        "class": cls,
                        "count": int(row["count"]),
                        "share": row["share"],
                    }
                )
balance = pd.DataFrame(balance_rows)
h_bal = 10 if 10 in HORIZONS_S else HORIZONS_S[0]
balance[balance.horizon_s == h_bal].pivot_table(
    index=["labels", "class"], columns="segment", values="share", sort=False
).round(3)

# %% [markdown]
# Class shares of the labelled rows; the `(invalid)` row is the share of *all* rows without a
# label (end of the data, dropped zeros).

# %%
plots.class_balance(
    balance[(balance.horizon_s == h_bal) & (balance["class"] != "(invalid)")],
    title=f"class balance at {h_bal} s, by label type and market",
)

# %% [markdown]
# *What to see:* dropping zeros leaves two classes whose balance follows the drift of these few
# minutes (more downs than ups on most markets); keeping the zeros makes "not up" the majority.
# With a one-standard-deviation threshold the flat class holds most rows. Smoothing
# the label shrinks its variance, so against a threshold fitted on the same kind of label the
# three DeepLOB classes look much like the raw ones.

# %% [markdown]
# ## 6. The leakage audit of the EMA-smoothed target
#
# Seed 004 trained its models on an exponentially smoothed forward return,
#
# $$ s_t = \alpha\, r_t(h) + (1 - \alpha)\, s_{t-1}, \qquad \alpha = 0.2. $$
#
# The recursion runs forward in time over the forward returns, so $s_t$ mixes $r_t(h)$ with the
# forward returns of *earlier* rows, $r_{t-1}(h), r_{t-2}(h), \dots$ Those end at $t+h-1, t+h-2,
# \dots$: much of their path has already happened at $t$. The smoothed target is partly a
# description of the past.
#
# ### 6.1 What the library's audit says
#
# `targets.leakage_audit` puts each target next to returns observable at $t$ (past returns over
# several lookbacks): their correlations, and the share of the target's variance a linear fit
# of them explains out of sample (fitted on the training rows, measured on the test rows). The
# raw forward return is the yardstick: for it both should be near zero.


# %%
def past_block(name: str) -> dict[str, np.ndarray]:
    """Past returns over each lookback, known at t (the inputs of the audit and the model)."""
    ts = markets[name].clock["ts"].to_numpy()
    return {f"past_{L}s": F.past_returns(mids[name], ts=ts, seconds=L) for L in PAST_LOOKBACKS_S}


audits = {}
for name, mk in markets.items():
    ts = mk.clock["ts"].to_numpy()
    past = past_block(name)
    for h in HORIZONS_S:
        k = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, te, _ = chrono_split(ts, h * 1_000_000_000)
        raw = fwd_clock[name][h]
        candidates = {
            "raw": raw,
            f"ema {EMA_ALPHA:g}": T.ema_smoothed_returns(raw, EMA_ALPHA),
            "deeplob current": T.smoothed_returns(mids[name], k, reference="current"),
            "deeplob past": T.smoothed_returns(mids[name], k, reference="past"),
        }
        # purged rows are neither fitted nor scored: blank their targets
        candidates = {t: np.where(tr | te, y, np.nan) for t, y in candidates.items()}
        audits[(name, h)] = T.leakage_audit(candidates, past, train_mask=tr)
audit = pd.concat(audits, names=["segment", "horizon_s"])
audit.loc[show.name].round(3)

# %% [markdown]
# On the showcase market, the raw return's correlations with the past are small, as they should
# be. (At a 1-step horizon both DeepLOB labels *are* the raw return: with $k = 1$ the means
# have one term.) The EMA target correlates strongly with the past returns at short horizons, and so does
# DeepLOB's past-referenced label. The out-of-sample $R^2$ column is noisy: a linear fit on a
# few hundred overlapping rows, tested on a couple of hundred, can lose to the training mean
# when these few minutes trend. To see the leak without a fitted model, we can compute it
# exactly.
#
# ### 6.2 The known part, computed exactly
#
# Write $L_t = 10^4 \log m_t$ and the EMA weights $w_j = \alpha (1-\alpha)^j$, so that
# $s_t = \sum_j w_j\, r_{t-j}(h)$ with $h$ in grid steps. Split each term at $t$:
#
# - terms with $j \ge h$ ended by $t$; together they are exactly $(1-\alpha)^h s_{t-h}$;
# - a term with $j < h$ is known up to $t$: $r_{t-j}(h) = (L_t - L_{t-j}) + (L_{t-j+h} - L_t)$.
#
# So $s_t = K_t + U_t$ with a part known at $t$,
#
# $$ K_t = (1-\alpha)^h s_{t-h} + \sum_{j=1}^{h-1} w_j (L_t - L_{t-j}), $$
#
# and an unknown part $U_t = \sum_{j=0}^{h-1} w_j (L_{t-j+h} - L_t)$. $K_t$ is a forecast of the
# target that needs no model at all. The function below computes it from the past only, and
# the next cell checks $K + U = s$ on the real data.


# %%
def ema_known_part(mid: np.ndarray, h: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The EMA-smoothed h-step forward return s and its part K known at t (bps, h in rows).

    K_t = (1 - alpha)^h s_{t-h} + sum_{j=1}^{h-1} alpha (1 - alpha)^j (L_t - L_{t-j}) with
    L = 1e4 log(mid): only rows <= t enter (s_{t-h} is built from returns ending by t). NaN for
    the first h rows.
    """
    L = 1e4 * np.log(mid)
    s = T.ema_smoothed_returns(T.forward_returns(mid, events=h), alpha)
    known = np.full(mid.size, np.nan)
    known[h:] = (1 - alpha) ** h * s[:-h]
    for j in range(1, h):
        known[h:] += alpha * (1 - alpha) ** j * (L[h:] - L[h - j : mid.size - j])
    return s, known


def ema_unknown_part(mid: np.ndarray, h: int, alpha: float) -> np.ndarray:
    """U_t = sum_{j=0}^{h-1} alpha (1 - alpha)^j (L_{t-j+h} - L_t): the part that lies ahead."""
    L = 1e4 * np.log(mid)
    n = mid.size
    out = np.full(n, np.nan)
    rows = np.arange(h, n - h)
    out[rows] = sum(alpha * (1 - alpha) ** j * (L[rows - j + h] - L[rows]) for j in range(h))
    return out


decomposition = []
for name in markets:
    for h in HORIZONS_S:
        steps = max(1, round(h * 1_000_000_000 / grid_ns))
        s, known = ema_known_part(mids[name], steps, EMA_ALPHA)
        unknown = ema_unknown_part(mids[name], steps, EMA_ALPHA)
        ok = np.isfinite(s) & np.isfinite(known) & np.isfinite(unknown)
        np.testing.assert_allclose(known[ok] + unknown[ok], s[ok], atol=1e-8)  # s = K + U
        # on the regular grid, h steps ahead is h seconds ahead: the same raw target
        np.testing.assert_allclose(
            T.forward_returns(mids[name], events=steps), fwd_clock[name][h], equal_nan=True
        )
        decomposition.append(
            {
                "segment": name,
                "horizon_s": h,
                "share": T.past_correlation(s, known) ** 2,
                "corr(raw, known)": T.past_correlation(fwd_clock[name][h], known),
            }
        )
decomposition = pd.DataFrame(decomposition)
decomposition.pivot(index="segment", columns="horizon_s", values="share").round(3)

# %% [markdown]
# The table is the squared correlation of $s_t$ with $K_t$: the share of the smoothed target's
# variance that is known when the prediction is made. For comparison, the same computation on
# a long simulated random walk (whose future is unpredictable by construction) gives the share
# that comes from the smoothing alone.

# %%
rng = np.random.default_rng(0)
walk = np.exp(np.cumsum(rng.normal(0.0, 1e-4, 200_000)))
theory_h = sorted({1, 2, 3, 5, 10, 20, 30, 60, 120, *HORIZONS_S})
theory = pd.DataFrame(
    {
        "horizon_s": theory_h,
        "share": [T.past_correlation(*ema_known_part(walk, h, EMA_ALPHA)) ** 2 for h in theory_h],
    }
)
plots.known_share(
    decomposition,
    theory,
    title=f"share of the ema ({EMA_ALPHA:g}) target known at prediction time",
)

# %% [markdown]
# *What to see:* at a 1-second horizon about two thirds of the smoothed target's variance is
# known at $t$ (for a random walk, exactly $(1-\alpha)^2 = 0.64$); the real markets sit near
# the random-walk line, so this is the smoothing's doing, not a property of the market. The share falls as the horizon grows past $1/\alpha = 5$
# steps, because the EMA's memory is then short next to the horizon. The raw forward return's
# correlation with $K_t$ stays small (last column above).

# %%
decomposition.pivot(index="segment", columns="horizon_s", values="corr(raw, known)").round(3)

# %% [markdown]
# ### 6.3 Apparent skill and real skill
#
# Now a simple model: ordinary least squares of the target on the past returns (lookbacks
# `PAST_LOOKBACKS_S`), fitted on the purged training rows and scored on the test rows with the
# out-of-sample $R^2$ against the zero forecast, $1 - \sum (y - \hat y)^2 / \sum y^2$. We fit it
# three ways:
#
# - **ema → ema**: trained on the smoothed target, scored on it (seed 004's apparent skill);
# - **raw → raw**: trained and scored on the raw forward return;
# - **ema → raw**: trained on the smoothed target, scored on the raw return, which is what a
#   trader would earn from.
#
# The intervals are 95 % block-bootstrap intervals over the test rows, with blocks long enough
# to keep overlapping targets together. In the figure, estimates below −1 are drawn as
# triangles at −1 (hover for the true values).


# %%
def ols_forecast(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Least-squares fit of y on [1, x] over the training rows; forecasts for every row."""
    design = np.column_stack([np.ones(len(x)), x])
    beta, *_ = np.linalg.lstsq(design[train], y[train], rcond=None)
    return design @ beta


skill_rows = []
for name, mk in markets.items():
    ts = mk.clock["ts"].to_numpy()
    x = np.column_stack(list(past_block(name).values()))
    for h in HORIZONS_S:
        steps = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, te, _ = chrono_split(ts, h * 1_000_000_000)
        raw = fwd_clock[name][h]
        s, known = ema_known_part(mids[name], steps, EMA_ALPHA)
        ok = np.isfinite(x).all(axis=1) & np.isfinite(raw) & np.isfinite(s) & np.isfinite(known)
        train, test = tr & ok, te & ok
        pred_ema = ols_forecast(x, s, train)
        pred_raw = ols_forecast(x, raw, train)
        block = int(min(max(steps, round(1 / EMA_ALPHA)), max(1, test.sum() // 5)))
        config = ev.BootstrapConfig(block_length=block, n_boot=N_BOOT, seed=0)
        cases = {
            "ema → ema": (s, pred_ema),
            "raw → raw": (raw, pred_raw),
            "ema → raw": (raw, pred_ema),
            "known part → ema": (s, known),
            "known part → raw": (raw, known),
        }
        for case, (y, pred) in cases.items():
            ci = ev.block_bootstrap_ci(ev.r2_oos, y[test], pred[test], config=config)
            skill_rows.append(
                {
                    "segment": name,
                    "horizon_s": h,
                    "target": case,
                    "n_test": int(test.sum()),
                    "r2_oos": ci.estimate,
                    "ci_low": ci.ci_low,
                    "ci_high": ci.ci_high,
                }
            )
skill = pd.DataFrame(skill_rows)
skill.pivot_table(
    index=["horizon_s", "target"], columns="segment", values="r2_oos", sort=False
).round(3)

# %%
plots.skill(
    skill[skill.target.isin(["ema → ema", "raw → raw", "ema → raw"])],
    title="out-of-sample r² of a linear model on past returns",
)

# %% [markdown]
# *What to see:* at 1 s the model "explains" roughly half of the smoothed target out of sample,
# on every market, with intervals well above zero. Scored on the raw return, the same model,
# and a model trained on the raw return itself, are at or below zero. The skill was never a
# forecast: it was the known part $K_t$, and the zero-parameter forecast `known part → ema` in
# the table scores as well as the fitted model.
#
# At 10 and 60 s the fitted models lose to the zero forecast on *every* target, often by far.
# Their intercept carries the drift of the training minutes into the test minutes, where the
# drift is different. On 2 to 3 minutes of test data per market, a linear model of past returns
# cannot be told apart from the zero forecast at these horizons, and the intervals say so.
#
# **Verdict.** An EMA-smoothed forward return with $\alpha = 0.2$ is mostly known at prediction
# time for horizons up to a few steps, and partly known beyond. Any skill measured on it is
# inflated. Train on it if you like, but always score on the raw forward return, with a
# chronological, purged split.

# %% [markdown]
# ## 7. Metrics

# %%
out_dir = report_dir("04_targets", REPORT_DIR)
metrics = {
    "grid": GRID,
    "horizons_s": HORIZONS_S,
    "horizons_events": HORIZONS_EVENTS,
    "train_fraction": TRAIN_FRACTION,
    "ema_alpha": EMA_ALPHA,
    "class_balance": {
        name: {
            f"{h}s": {
                kind: dict(zip(part["class"], part["share"], strict=True))
                for kind, part in balance[
                    (balance.segment == name) & (balance.horizon_s == h)
                ].groupby("labels", sort=False)
            }
            for h in HORIZONS_S
        }
        for name in markets
    },
    "share_exactly_zero": {
        name: {h: horizons.loc[(name, h), "share exactly 0"] for h in horizons.loc[name].index}
        for name in markets
    },
    "leakage": {
        name: {
            f"{h}s": {
                "known_share_ema": decomposition.set_index(["segment", "horizon_s"]).loc[
                    (name, h), "share"
                ],
                "corr_raw_known": decomposition.set_index(["segment", "horizon_s"]).loc[
                    (name, h), "corr(raw, known)"
                ],
                "audit": audits[(name, h)].to_dict(orient="index"),
                "r2_oos": {
                    row.target: {"estimate": row.r2_oos, "ci": [row.ci_low, row.ci_high]}
                    for row in skill[(skill.segment == name) & (skill.horizon_s == h)].itertuples()
                },
            }
            for h in HORIZONS_S
        }
        for name in markets
    },
    "random_walk_known_share": dict(zip(theory["horizon_s"], theory["share"], strict=True)),
}
written = write_metrics(out_dir, metrics)
sorted(written)

# %% [markdown]
# ## Key takeaways
#
# - Forward returns look ahead by construction; they are the only thing that may. The last rows
#   have no target, never a shorter one.
# - At short horizons most returns are exactly zero. Say whether a binary label drops them or
#   not, and report the class balance of every label set.
# - Fit thresholds, scalers and models on training rows only, cut chronologically, and purge
#   the training rows whose target reaches into the test period.
# - An EMA of forward returns mixes in the forward returns of earlier rows, which are largely in
#   the past. With $\alpha = 0.2$ about two thirds of its variance is known at a 1-step horizon,
#   and a model "predicts" it with a large out-of-sample $R^2$ while predicting nothing.
# - On a few minutes of data, no model of past returns beats the zero forecast of the raw
#   return at any horizon here; that is a statement about this sample's size as much as about
#   the market.

# %% [markdown]
# ## Exercises
#
# 1. Change `EMA_ALPHA` to 0.05 and to 0.5. How does the known share at 1 s and 10 s change, and
#    why (think of $1/\alpha$ as the EMA's memory in steps)?
# 2. DeepLOB's past-referenced label $\log(m^+_t / m^{\text{ref}}_t)$ also has a known part.
#    Write it down and compute its share of the label's variance at $k = 10$.
# 3. Refit the 3-class threshold on *all* rows instead of the training rows. How much do the
#    test-period class shares move? (`three_class_labels` warns when you do this.)

# %% [markdown]
# ````{admonition} Solution 1
# :class: dropdown
# ```python
# for alpha in (0.05, 0.5):
#     print(alpha, [round(T.past_correlation(*ema_known_part(walk, h, alpha)) ** 2, 2)
#                   for h in (1, 10)])
# ```
# A small $\alpha$ gives the EMA a long memory (about $1/\alpha$ steps), so even at 10 s most of
# it consists of returns that have ended: the known share rises. A large $\alpha$ puts most
# weight on $r_t$ itself, and the share falls. At a one-step horizon on a random walk the share
# is exactly $(1-\alpha)^2$: 0.90 for $\alpha = 0.05$, 0.64 for 0.2, 0.25 for 0.5.
# ````
#
# ````{admonition} Solution 2
# :class: dropdown
# The known part is $\log(m_t / m^{\text{ref}}_t)$, the distance of the current mid from the
# mean of the last $k$ mids:
# ```python
# m = mids[show.name]
# label = T.smoothed_returns(m, 10, reference="past")
# ref = pd.Series(m).rolling(10).mean().to_numpy()
# known = 1e4 * np.log(m / ref)
# T.past_correlation(label, known) ** 2
# ```
# ````
#
# ````{admonition} Solution 3
# :class: dropdown
# ```python
# r = fwd_clock[show.name][10]
# tr, te, _ = chrono_split(show.clock["ts"].to_numpy(), 10 * 1_000_000_000)
# honest = T.three_class_labels(r, train_mask=tr)
# leaky = T.three_class_labels(r, threshold=T.fit_threshold(r, np.isfinite(r)))
# for lab in (honest, leaky):
#     print(np.bincount(lab.codes[te & lab.valid], minlength=3) / (te & lab.valid).sum())
# ```
# The leaky threshold adapts to the test period's volatility, so its test classes look more
# like the training classes than they should.
# ````

# %% [markdown]
# ## References
#
# - Zhang, Zohren & Roberts (2019), *DeepLOB: deep convolutional neural networks for limit order
#   books* {cite}`zhang2019deeplob`.
# - Ntakaris, Magris, Kanniainen, Gabbouj & Iosifidis (2018), *Benchmark dataset for mid-price
#   forecasting of limit order book data with machine learning methods*
#   {cite}`ntakaris2018benchmark`.
# - López de Prado (2018), *Advances in financial machine learning* (purging and embargo)
#   {cite}`lopezdeprado2018advances`.
#
# The full list is on the {doc}`/references` page.
