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
# forward return, and measures how much of it is already known when the prediction is made.
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

from lobutils import features as F
from lobutils.book.market import load_market
from lobutils.data import segment, segments
from lobutils.features import analysis as A
from lobutils.features import targets as T
from lobutils.models import leakage as L
from lobutils.paths import report_dir, write_frame, write_metrics
from lobutils.plots import features as plots
from lobutils.report import say

# %% tags=["parameters"]
DATA_DIR = None  # a directory of Binance recordings (None: the bundled data)
SEGMENTS = None  # segment names, e.g. ["spot_btcusdt"] (None: every segment found)
LEVELS = 10  # book levels per side (only the best level matters here)
GRID = "1s"  # clock-grid step
HORIZONS_S = [1, 10, 60]  # forward-return horizons on the clock grid (s)
HORIZONS_EVENTS = [10, 100]  # forward-return horizons in event time (book updates)
TRAIN_FRACTION = 0.7  # the first 70 % of each market's time span is training data
THRESHOLD_K = 1.0  # 3-class threshold: THRESHOLD_K x std of the training returns
EMA_ALPHA = 0.2  # smoothing weight of the EMA target audited in section 6
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
out_dir = report_dir("04_targets", REPORT_DIR)
mids = {
    name: F.mid(mk.clock["bid_px_1"].to_numpy(), mk.clock["ask_px_1"].to_numpy())
    for name, mk in markets.items()
}
sizes = [len(m) for m in mids.values()]
print(f"{len(mids)} markets, {min(sizes):,} to {max(sizes):,} clock rows each")

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

# %% [markdown]
# Per market and horizon: how many rows have a target, how many non-overlapping horizons the
# sample holds, the share of returns that are exactly zero and their standard deviation. The
# full table goes to `horizons.csv` in the report directory; the book shows the share of zeros.

# %%
horizon_rows = []
for name, mk in markets.items():
    span_s = (mk.clock["ts"].iloc[-1] - mk.clock["ts"].iloc[0]) / 1e9
    for h in HORIZONS_S:
        summary = A.return_summary(fwd_clock[name][h], span_s / h)
        horizon_rows.append({"segment": name, "horizon": f"{h} s", **summary})
    ets = mk.events["ts"].to_numpy()
    for h in HORIZONS_EVENTS:
        summary = A.return_summary(fwd_events[name][h], len(ets) / h)
        duration = {"median duration (s)": np.median(ets[h:] - ets[:-h]) / 1e9}
        horizon_rows.append({"segment": name, "horizon": f"{h} events", **summary, **duration})
horizons = pd.DataFrame(horizon_rows).set_index(["segment", "horizon"])
write_frame(horizons.reset_index(), out_dir / "horizons.csv")
order = list(dict.fromkeys(horizons.index.get_level_values("horizon")))
horizons["share exactly 0"].unstack("horizon")[order].round(2)

# %% tags=["remove-input"]
by_event = horizons["median duration (s)"].dropna().unstack("horizon")
h_long, e_short = max(HORIZONS_S), f"{min(HORIZONS_EVENTS)} events"
say(
    f"At {h_long} s each market holds about "
    f"{horizons.xs(f'{h_long} s', level='horizon')['independent horizons'].median():.0f} "
    f"non-overlapping returns. {e_short} last from {by_event[e_short].min():.2f} s to "
    f"{by_event[e_short].max():.2f} s (median), depending on the market."
)

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
# training. `lobutils.evaluation.purge_embargo` removes them {cite}`lopezdeprado2018advances`;
# `lobutils.models.leakage.chrono_split` makes the cut and the purge.

# %%
h_show = max(HORIZONS_S)
show_ts = show.clock["ts"].to_numpy()
train_mask, test_mask, cut = L.chrono_split(show_ts, h_show * 1_000_000_000, TRAIN_FRACTION)
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
h_bal = 10 if 10 in HORIZONS_S else HORIZONS_S[0]  # the horizon of the label tables
r10 = fwd_clock[show.name][h_bal]
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
# and records what it was fitted on. The book shows the class shares at one horizon; every
# horizon is in `thresholds.csv` in the report directory.

# %%
threshold_rows = []
for name, mk in markets.items():
    for h in HORIZONS_S:
        r = fwd_clock[name][h]
        tr, te, _ = L.chrono_split(mk.clock["ts"].to_numpy(), h * 1_000_000_000, TRAIN_FRACTION)
        thr = T.fit_threshold(r, tr, k=THRESHOLD_K)
        lab = T.three_class_labels(r, threshold=thr)
        for part, mask in (("train", tr), ("test", te)):
            counts = np.bincount(lab.codes[mask & lab.valid], minlength=3)
            shares = dict(zip(lab.classes, counts / counts.sum(), strict=True))
            key = {"segment": name, "horizon_s": h, "part": part}
            threshold_rows.append(key | {"threshold (bps)": thr.value} | shares)
thresholds = pd.DataFrame(threshold_rows).set_index(["segment", "horizon_s", "part"])
write_frame(thresholds.reset_index(), out_dir / "thresholds.csv")
thresholds.xs(h_bal, level="horizon_s").round(3)

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
balance_parts = []
for name, mk in markets.items():
    for h in HORIZONS_S:
        k = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, _, _ = L.chrono_split(mk.clock["ts"].to_numpy(), h * 1_000_000_000, TRAIN_FRACTION)
        labels = A.label_sets(fwd_clock[name][h], mids[name], k, tr, k=THRESHOLD_K)
        balance_parts.append(A.long_balance(labels).assign(segment=name, horizon_s=h))
balance = pd.concat(balance_parts, ignore_index=True)
write_frame(balance, out_dir / "class_balance.csv")
at_h = balance[(balance.horizon_s == h_bal) & (balance.segment == show.name)]
shares = at_h.pivot_table(index="labels", columns="class", values="share", sort=False)
classes = [c for c in ("down", "flat", "not up", "up", "(invalid)") if c in shares]
shares[classes].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")  # blank: not a class

# %% [markdown]
# The table shows the showcase market at one horizon: class shares of the labelled rows; the
# `(invalid)` column is the share of *all* rows without a label (end of the data, dropped
# zeros). Every market and horizon is in `class_balance.csv`, and the figure shows every market.

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
# Some forecasting code trains its models on an exponentially smoothed forward return,
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


# %%
audits = {}
for name, mk in markets.items():
    past = past_block(name)
    for h in HORIZONS_S:
        k = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, te, _ = L.chrono_split(mk.clock["ts"].to_numpy(), h * 1_000_000_000, TRAIN_FRACTION)
        raw = fwd_clock[name][h]
        candidates = {"raw": raw, f"ema {EMA_ALPHA:g}": T.ema_smoothed_returns(raw, EMA_ALPHA)}
        for ref in ("current", "past"):
            candidates[f"deeplob {ref}"] = T.smoothed_returns(mids[name], k, reference=ref)
        # purged rows are neither fitted nor scored: blank their targets
        candidates = {t: np.where(tr | te, y, np.nan) for t, y in candidates.items()}
        audits[(name, h)] = T.leakage_audit(candidates, past, train_mask=tr)
audit = pd.concat(audits, names=["segment", "horizon_s"])

# %%
# corr: with the past return over each lookback; r2_past: out-of-sample r² of their linear fit
shown_audit = audit.loc[show.name].drop(columns="n")
shown_audit.rename(columns=lambda c: c.replace("corr_past_", "corr ")).round(2)

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
# target that needs no model at all. `lobutils.features.analysis.ema_known_part` computes it from
# the past only, `ema_unknown_part` computes $U_t$, and the next cell checks $K + U = s$ on the
# real data.

# %%
decomposition = []
for name in markets:
    for h in HORIZONS_S:
        steps = max(1, round(h * 1_000_000_000 / grid_ns))
        s, known = A.ema_known_part(mids[name], steps, EMA_ALPHA)
        unknown = A.ema_unknown_part(mids[name], steps, EMA_ALPHA)
        ok = np.isfinite(s) & np.isfinite(known) & np.isfinite(unknown)
        np.testing.assert_allclose(known[ok] + unknown[ok], s[ok], atol=1e-8)  # s = K + U
        raw = fwd_clock[name][h]  # on the regular grid, h steps ahead is h seconds ahead
        np.testing.assert_allclose(T.forward_returns(mids[name], events=steps), raw, equal_nan=True)
        share, corr_raw = T.past_correlation(s, known) ** 2, T.past_correlation(raw, known)
        decomposition.append(
            {"segment": name, "horizon_s": h, "share": share, "corr(raw, known)": corr_raw}
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
        "share": [T.past_correlation(*A.ema_known_part(walk, h, EMA_ALPHA)) ** 2 for h in theory_h],
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
# - **ema → ema**: trained on the smoothed target, scored on it (the apparent skill such code reports);
# - **raw → raw**: trained and scored on the raw forward return;
# - **ema → raw**: trained on the smoothed target, scored on the raw return, which is what a
#   trader would earn from.
#
# The intervals are 95 % block-bootstrap intervals over the test rows, with blocks long enough
# to keep overlapping targets together. In the figure, estimates below −1 are drawn as
# triangles at −1 (hover for the true values).
#
# `lobutils.models.leakage.ema_skill` fits the two models and scores the five cases.

# %%
skill_parts = []
for name, mk in markets.items():
    x = np.column_stack(list(past_block(name).values()))
    for h in HORIZONS_S:
        steps = max(1, round(h * 1_000_000_000 / grid_ns))
        tr, te, _ = L.chrono_split(mk.clock["ts"].to_numpy(), h * 1_000_000_000, TRAIN_FRACTION)
        part = L.ema_skill(
            x, fwd_clock[name][h], mids[name], steps, tr, te, alpha=EMA_ALPHA, n_boot=N_BOOT
        )
        skill_parts.append(part.assign(segment=name, horizon_s=h))
skill = pd.concat(skill_parts, ignore_index=True)
write_frame(skill, out_dir / "skill.csv")
# the median over markets; every market with its interval is in the figure and in skill.csv
skill.pivot_table(
    index="target", columns="horizon_s", values="r2_oos", aggfunc="median", sort=False
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
metrics = {"grid": GRID, "horizons_s": HORIZONS_S, "horizons_events": HORIZONS_EVENTS}
metrics |= {"train_fraction": TRAIN_FRACTION, "ema_alpha": EMA_ALPHA}
metrics["class_balance"] = {}
for (name, h, kind), part in balance.groupby(["segment", "horizon_s", "labels"], sort=False):
    shares = dict(zip(part["class"], part["share"], strict=True))
    metrics["class_balance"].setdefault(name, {}).setdefault(f"{h}s", {})[kind] = shares
metrics["share_exactly_zero"] = {
    name: {h: horizons.loc[(name, h), "share exactly 0"] for h in horizons.loc[name].index}
    for name in markets
}

# %%
dec = decomposition.set_index(["segment", "horizon_s"])
leakage = {}
for (name, h), audit_table in audits.items():
    rows = skill[(skill.segment == name) & (skill.horizon_s == h)]
    leakage.setdefault(name, {})[f"{h}s"] = {
        "known_share_ema": dec.loc[(name, h), "share"],
        "corr_raw_known": dec.loc[(name, h), "corr(raw, known)"],
        "audit": audit_table.to_dict(orient="index"),
        "r2_oos": {
            r.target: {"estimate": r.r2_oos, "ci": [r.ci_low, r.ci_high]} for r in rows.itertuples()
        },
    }
metrics["leakage"] = leakage
metrics["random_walk_known_share"] = dict(zip(theory["horizon_s"], theory["share"], strict=True))
written = write_metrics(out_dir, metrics)
print(f"metrics.json in {out_dir.name}/: {', '.join(sorted(written))}")

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
# A small $\alpha$ gives the EMA a long memory (about $1/\alpha$ steps), so even at 10 s most of
# it consists of returns that have ended: the known share rises. A large $\alpha$ puts most
# weight on $r_t$ itself, and the share falls. At a one-step horizon on a random walk the share
# is exactly $(1-\alpha)^2$: 0.90 for $\alpha = 0.05$, 0.64 for 0.2, 0.25 for 0.5.
# ````

# %% tags=["hide-input"]
# Solution 1: the known share of the EMA target on the simulated random walk, by alpha.
pd.DataFrame(
    {
        alpha: {
            f"{h} s": T.past_correlation(*A.ema_known_part(walk, h, alpha)) ** 2 for h in (1, 10)
        }
        for alpha in (0.05, EMA_ALPHA, 0.5)
    }
).rename_axis(columns="alpha").round(2)

# %% [markdown]
# ````{admonition} Solution 2
# :class: dropdown
# The known part is $\log(m_t / m^{\text{ref}}_t)$, the distance of the current mid from the
# mean of the last $k$ mids. Its squared correlation with the label is the share of the label's
# variance known at $t$.
# ````

# %% tags=["hide-input"]
# Solution 2: the known part of DeepLOB's past-referenced label at k = 10, showcase market.
m = mids[show.name]
label = T.smoothed_returns(m, 10, reference="past")
known_past = 1e4 * np.log(m / pd.Series(m).rolling(10).mean().to_numpy())
share = T.past_correlation(label, known_past) ** 2
print(f"{show.name}: {share:.0%} of the label's variance is known at t")

# %% [markdown]
# ````{admonition} Solution 3
# :class: dropdown
# The leaky threshold adapts to the test period's volatility, so its test classes look more
# like the training classes than they should.
# ````

# %% tags=["hide-input"]
# Solution 3: test-period class shares with a train-only and an all-rows threshold.
r = fwd_clock[show.name][h_bal]
tr, te, _ = L.chrono_split(show.clock["ts"].to_numpy(), h_bal * 1_000_000_000, TRAIN_FRACTION)
honest = T.three_class_labels(r, train_mask=tr, k=THRESHOLD_K)
leaky = T.three_class_labels(r, threshold=T.fit_threshold(r, np.isfinite(r), k=THRESHOLD_K))
shares = {
    kind: np.bincount(lab.codes[te & lab.valid], minlength=3) / (te & lab.valid).sum()
    for kind, lab in (("train-only threshold", honest), ("all-rows threshold", leaky))
}
pd.DataFrame(shares, index=honest.classes).T.round(3)

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
