"""Sentences that read the trading chapters' results (:mod:`lobutils.report` style).

Each builder takes the tables of :mod:`lobutils.trading.study` or of the liquidation study
(:mod:`lobutils.trading.liquidation`) and returns markdown for :func:`lobutils.report.say`.
They state what the numbers are and choose the wording from them (a verdict follows its
interval); they compute nothing that a table does not already hold.

Examples
--------
>>> sel = pd.DataFrame({"segment": ["a", "b"], "chosen": ["linear", "tree"],
...     "test_r2_oos": [-0.1, 0.02], "test_hit_rate": [0.5, 0.55]})
>>> selection_verdict(sel, horizon=10).startswith("The model chosen on the validation block")
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.report import fmt_ci

__all__ = [
    "backtest_verdict",
    "cost_verdict",
    "deeplob_verdict",
    "interval_verdict",
    "liquidation_verdict",
    "maker_verdict",
    "selection_verdict",
]


def interval_verdict(low: float, high: float, above: str, below: str, neither: str) -> str:
    """The phrase an interval supports: ``above`` zero, ``below`` zero, or ``neither``.

    Parameters
    ----------
    low, high : float
        The interval.
    above, below, neither : str
        The phrases.

    Returns
    -------
    str

    Examples
    --------
    >>> interval_verdict(-2.0, -1.0, "gains", "loses", "unclear")
    'loses'
    """
    if low > 0:
        return above
    if high < 0:
        return below
    return neither


def _ci_text(ci: ev.BootstrapCI | None) -> str:
    if ci is None:
        return "not estimable (too few round trips for the bootstrap)"
    return f"{fmt_ci(ci.estimate, ci.ci_low, ci.ci_high, 2)} bps"


def selection_verdict(selection: pd.DataFrame, horizon: int) -> str:
    """What the chosen classical models forecast on the test block.

    Parameters
    ----------
    selection : pandas.DataFrame
        Rows of :func:`lobutils.trading.study.classical_signals`.
    horizon : int
        Forecast horizon (s).

    Returns
    -------
    str
    """
    return (
        "The model chosen on the validation block: "
        + ", ".join(f"**{r.chosen}** on {r.segment}" for r in selection.itertuples())
        + ". Its out-of-sample $R^2$ on the test block (against forecasting no move) is negative "
        f"in {int((selection['test_r2_oos'] < 0).sum())} of {len(selection)} markets (its best "
        f"is {selection['test_r2_oos'].max():.3f}): as a forecast of the size of the move it does "
        "worse than forecasting no move at all where it is negative. It gets the sign of the "
        f"{horizon}-second return right on {selection['test_hit_rate'].min():.0%} to "
        f"{selection['test_hit_rate'].max():.0%} of the test rows. Chapter 6 put intervals on "
        "such numbers; here the question is what they are worth in money."
    )


def cost_verdict(
    costs: pd.DataFrame,
    model_runs: pd.DataFrame,
    orders: pd.DataFrame,
    overview: pd.DataFrame,
    order_value: float,
) -> str:
    """Where the model's money goes: the three costs against the gross P&L.

    Parameters
    ----------
    costs : pandas.DataFrame
        :func:`lobutils.trading.study.cost_breakdown` of the model's runs.
    model_runs : pandas.DataFrame
        The model's summary rows.
    orders : pandas.DataFrame
        The model's orders.
    overview : pandas.DataFrame
        :func:`lobutils.trading.study.market_overview`.
    order_value : float
        Quote value of one position.

    Returns
    -------
    str
    """
    tot = model_runs[["spread_cost_quote", "depth_cost_quote", "fees_quote"]].sum()
    total = tot.sum()
    fee_share = float(tot["fees_quote"] / total) if total > 0 else math.nan
    spread_share = float(tot["spread_cost_quote"] / total) if total > 0 else math.nan
    fills = orders[orders["filled_qty"] > 0]
    all_costs = float((costs["spread_bps"] + costs["depth_bps"] + costs["fees_bps"]).sum())
    return (
        f"Across the markets the model's costs add up to {all_costs:.0f} bps of one position's "
        f"capital, against a gross P&L of {float(costs['gross_bps'].sum()):.0f} bps. Fees are "
        f"{fee_share:.1%} of the costs, the half-spread {spread_share:.1%} and the depth slippage "
        f"the rest. At {order_value:,.0f} per order the best level alone fills "
        f"{float((fills['levels'] == 1).mean()):.0%} of the orders (the deepest walk takes "
        f"{fills['levels'].max():.0f} levels), and a fill costs "
        f"{fills['slippage_bps'].median():.2f} bps against the mid at the median. The median "
        f"spread of these books is {overview['median_spread_bps'].min():.3f} to "
        f"{overview['median_spread_bps'].max():.3f} bps; the taker fee is "
        f"{overview['taker_fee_bps'].min():g} to {overview['taker_fee_bps'].max():g} bps per "
        "side. A strategy that crosses the spread has to be right by more than twice the fee per "
        "round trip."
    )


def backtest_verdict(
    cis: pd.DataFrame,
    runs: pd.DataFrame,
    ranks: pd.DataFrame,
    moves_bps: np.ndarray,
    round_trip_fees_bps: np.ndarray,
    *,
    horizon: int,
    confidence: float,
) -> str:
    """The verdict on the model: its mean P&L per trip with an interval, and the benchmarks.

    Parameters
    ----------
    cis : pandas.DataFrame
        :func:`lobutils.trading.study.trip_ci_table`.
    runs : pandas.DataFrame
        All summary rows (model, holding, perfect foresight, random).
    ranks : pandas.DataFrame
        :func:`lobutils.trading.study.rank_among_random`.
    moves_bps, round_trip_fees_bps : numpy.ndarray
        Per market: the median absolute forward move on the test rows, and twice the taker fee.
    horizon : int
        Forecast horizon (s).
    confidence : float
        Level of the intervals.

    Returns
    -------
    str
    """
    ci = cis.set_index(["strategy", "value"])
    net, gross = ci.loc[("model", "net_bps")], ci.loc[("model", "gross_bps")]
    pf_net = ci.loc[("perfect_foresight", "net_bps")]
    model = runs[runs["strategy"] == "model"].set_index("segment")["pnl_bps"]
    hold = runs[runs["strategy"] == "holding"].set_index("segment")["pnl_bps"]
    pf = runs[runs["strategy"] == "perfect_foresight"]["pnl_bps"]
    n_seg, n_pf_neg = len(model), int((pf < 0).sum())
    net_verdict = interval_verdict(
        net["ci_low"],
        net["ci_high"],
        "makes money net of costs, and the whole interval is above zero",
        "loses money net of costs, and the whole interval is below zero",
        "cannot be told apart from zero net of costs",
    )
    gross_verdict = interval_verdict(
        gross["ci_low"],
        gross["ci_high"],
        "a positive gross edge beyond the interval",
        "a negative gross edge beyond the interval",
        "no gross edge that the interval can tell from zero",
    )
    bound = (
        "at this horizon and these taker fees, even knowing the future does not pay for "
        "crossing the spread. "
        if n_pf_neg == n_seg
        else "knowing the future would pay in some markets, but the model captures little of "
        "that bound. "
    )
    ending = (
        "Nothing survives costs here that a taker could trade; a forecast at this horizon could "
        "help a trader who pays no spread and much lower fees, or one who has to trade anyway "
        "(the optimal-execution chapter)."
        if net["ci_high"] < 0
        else "Whatever survives here needs a much longer test before anyone trades it."
    )
    return (
        f"**Verdict.** Over {int(net['n_trips'])} round trips in {n_seg} markets, the model's "
        f"mean net P&L per round trip is {fmt_ci(net['mean'], net['ci_low'], net['ci_high'], 2)} "
        f"bps ({confidence:.0%} block-bootstrap interval): the strategy {net_verdict}. Before "
        f"costs it earns {fmt_ci(gross['mean'], gross['ci_low'], gross['ci_high'], 2)} bps per "
        f"round trip, {gross_verdict}. It ends the test block with a profit in "
        f"{int((model > 0).sum())} of {n_seg} markets, beats holding in "
        f"{int((model > hold.reindex(model.index)).sum())}, beats the median random run in "
        f"{int((ranks['model'] > ranks['random_median']).sum())} and the 95th percentile of the "
        f"random runs in {int((ranks['model'] > ranks['random_p95']).sum())}.\n\n"
        f"Perfect foresight at the same trade times earns "
        f"{fmt_ci(pf_net['mean'], pf_net['ci_low'], pf_net['ci_high'], 2)} bps per round trip "
        f"net of costs, and loses money in {n_pf_neg} of {n_seg} markets: {bound}"
        f"The median absolute {horizon}-second move of the mid on the test rows is "
        f"{moves_bps.min():.2f} to {moves_bps.max():.2f} bps per market, against a round-trip "
        f"taker fee of {round_trip_fees_bps.min():g} to {round_trip_fees_bps.max():g} bps"
        + (
            ": the typical move is smaller than the fee alone. "
            if (moves_bps < round_trip_fees_bps).all()
            else ". "
        )
        + ending
    )


def deeplob_verdict(
    overlap: pd.DataFrame,
    deep_runs: pd.DataFrame,
    classical_runs: pd.DataFrame,
    ranks: pd.DataFrame,
    costs: pd.DataFrame,
    net: ev.BootstrapCI | None,
    gross: ev.BootstrapCI | None,
    *,
    model: str,
) -> str:
    """DeepLOB's signals net of costs, next to the classical model on the same times.

    Parameters
    ----------
    overlap : pandas.DataFrame
        :attr:`lobutils.trading.study.DeepSelection.table`.
    deep_runs : pandas.DataFrame
        DeepLOB's summary rows (strategy ``model``).
    classical_runs : pandas.DataFrame
        :func:`lobutils.trading.study.classical_on_times`.
    ranks : pandas.DataFrame
        :func:`lobutils.trading.study.rank_among_random` of DeepLOB's runs.
    costs : pandas.DataFrame
        :func:`lobutils.trading.study.cost_breakdown` of DeepLOB's runs.
    net, gross : lobutils.evaluation.BootstrapCI or None
        Its mean net and gross P&L per trip.
    model : str
        The classifier's name.

    Returns
    -------
    str
    """
    d_pnl = deep_runs.set_index("segment")["pnl_bps"]
    c_pnl = classical_runs.set_index("segment")["pnl_bps"].reindex(d_pnl.index)
    n_d = len(deep_runs)
    tot_costs = float((costs["spread_bps"] + costs["depth_bps"] + costs["fees_bps"]).sum())
    o = overlap
    ending = (
        "The interval of the net mean lies below zero: net of taker costs, DeepLOB's signals "
        "lose money here, like the classical model's."
        if net is not None and net.ci_high < 0
        else "With this few minutes and trades, the comparison says little either way; it shows "
        "that the deep model's signals run through exactly the same accounting."
    )
    return (
        f"**DeepLOB, net of costs.** On the overlap of the two test blocks "
        f"({o['overlap_minutes'].min():.1f} to {o['overlap_minutes'].max():.1f} minutes per "
        f"market, against {o['test_minutes'].min():.1f} to {o['test_minutes'].max():.1f} minutes "
        f"of this chapter's test block), {model} has a signal at "
        f"{o['share_with_signal'].min():.0%} to {o['share_with_signal'].max():.0%} of the "
        f"decision times and changes its position {int(o['position_changes'].sum())} times (the "
        f"classical model {int(o['classical_position_changes'].sum())} times on the same "
        f"decision times): {int(deep_runs['n_round_trips'].sum())} round trips in {n_d} "
        f"market(s). Its sign is right on {o['hit_rate'].min():.0%} to "
        f"{o['hit_rate'].max():.0%} of the decision times (the classical model: "
        f"{o['classical_hit_rate'].min():.0%} to {o['classical_hit_rate'].max():.0%} on the same "
        f"times). Its mean net P&L per round trip is {_ci_text(net)}, its gross "
        f"{_ci_text(gross)}. Its costs add up to {tot_costs:.0f} bps of one position's capital "
        f"against a gross P&L of {float(costs['gross_bps'].sum()):.0f} bps. It ends the overlap "
        f"with a profit in {int((d_pnl > 0).sum())} of {n_d} markets, beats the classical model "
        f"on the same times in {int((d_pnl > c_pnl).sum())}, the median random run in "
        f"{int((ranks['model'] > ranks['random_median']).sum())} and the 95th percentile of the "
        f"random runs in {int((ranks['model'] > ranks['random_p95']).sum())}. " + ending
    )


def maker_verdict(maker: pd.DataFrame, ttl_s: float) -> str:
    """Posting instead of crossing: fill rate, slippage and P&L as a maker.

    Parameters
    ----------
    maker : pandas.DataFrame
        :func:`lobutils.trading.study.maker_table`.
    ttl_s : float
        Time to live of a maker order (s).

    Returns
    -------
    str
    """
    mk_net, tk_net = maker["maker_net_bps"].mean(), maker["taker_net_bps"].mean()
    mk_gross, tk_gross = maker["maker_gross_bps"].mean(), maker["taker_gross_bps"].mean()
    return (
        f"As a maker, the model's orders fill {maker['fill_rate'].min():.0%} to "
        f"{maker['fill_rate'].max():.0%} of their size within {ttl_s:g} s, at "
        f"{maker['maker_slippage_bps'].median():.2f} bps against the mid at the median "
        f"(negative: better than the mid). The net P&L changes from {tk_net:.1f} bps of capital "
        f"per market on average as a taker to {mk_net:.1f} bps as a maker"
        + (
            " (no spread to pay, a lower fee where the maker fee is lower, and fewer fills). "
            if mk_net > tk_net
            else ". "
        )
        + f"The gross P&L, measured from the mid at each order's arrival, moves from "
        f"{tk_gross:.1f} to {mk_gross:.1f} bps: "
        + (
            "the maker keeps less of the forecast's edge, because the orders that fill are those "
            "the market moved against, and those that do not fill are those that would have "
            "paid. "
            if mk_gross < tk_gross
            else "on these few orders the fills did not select against the maker. "
        )
        + "The fill rule is conservative about the queue but assumes our order would not have "
        "changed the trades that filled it; an exercise asks how the answer moves with the time "
        "to live."
    )


def liquidation_verdict(
    shortfall: pd.DataFrame,
    pooled: pd.DataFrame,
    paired: pd.DataFrame,
    *,
    value: float,
    horizon_s: float,
    confidence: float,
) -> str:
    """The liquidation study: TWAP's cost, the AC trade-off, and each schedule against TWAP.

    Parameters
    ----------
    shortfall : pandas.DataFrame
        One row per (market, start time, schedule) (:func:`lobutils.trading.execution.liquidation_study`).
    pooled : pandas.DataFrame
        :func:`lobutils.trading.execution.frontier_table` of all markets, indexed by strategy.
    paired : pandas.DataFrame
        :func:`lobutils.trading.liquidation.paired_vs_twap`.
    value : float
        Quote value sold.
    horizon_s : float
        Horizon of the sale (s).
    confidence : float

    Returns
    -------
    str
    """
    walk = shortfall.groupby("strategy")["walk_cost_bps"].mean()
    twap = pooled.loc["twap"]
    ac_names = [s for s in pooled.index if s.startswith("ac_")]
    better = paired[paired["ci_high"] < 0]["strategy"].tolist()
    worse = paired[paired["ci_low"] > 0]["strategy"].tolist()
    is_twap = shortfall["strategy"] == "twap"
    lines = [
        f"Over {int(is_twap.sum())} start times in {shortfall['segment'].nunique()} markets, "
        f"selling {value:,.0f} of quote value in {horizon_s:g} s costs TWAP "
        f"{twap['mean_bps']:.2f} bps on average (std {twap['std_bps']:.2f} bps). Of that mean, "
        f"the walk through the book is {walk['twap']:.3f} bps and the mid's moves between the "
        f"arrival and the slices {shortfall.loc[is_twap, 'timing_bps'].mean():.3f} bps."
    ]
    if ac_names:
        urgent = ac_names[-1]
        std_cut = twap["std_bps"] - pooled.loc[urgent, "std_bps"]
        extra_walk = walk[urgent] - walk["twap"]
        text = (
            f"The most risk-averse AC schedule ({urgent}) walks "
            f"{'deeper' if extra_walk > 0 else 'no deeper'} ({walk[urgent]:.3f} bps of walk "
            "cost) and "
        )
        if std_cut > 0:
            text += (
                f"cuts the standard deviation to {pooled.loc[urgent, 'std_bps']:.2f} bps: selling "
                "early trades impact for risk, as the model says"
            )
            if extra_walk < std_cut:
                text += (
                    f". Its extra walk cost, {extra_walk:.3f} bps, is small next to the "
                    f"{std_cut:.2f} bps of standard deviation it removes: on books this deep for "
                    "this size, timing risk is the larger cost."
                )
            else:
                text += "."
        else:
            text += f"has a standard deviation of {pooled.loc[urgent, 'std_bps']:.2f} bps."
        lines.append(text)

    def listing(names: list[str]) -> str:
        return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}"

    lines.append(
        f"The lowest mean shortfall belongs to **{pooled['mean_bps'].idxmin()}** and the lowest "
        f"standard deviation to **{pooled['std_bps'].idxmin()}**. Against TWAP on the same "
        "windows, "
        + (
            f"{listing(better)} cheaper beyond the {confidence:.0%} interval"
            if better
            else "no schedule is cheaper beyond the interval"
        )
        + (f", and {listing(worse)} dearer beyond it" if worse else "")
        + "."
    )
    if "predictive" in set(paired["strategy"]):
        pred = paired.set_index("strategy").loc["predictive"]
        lines.append(
            "The predictive schedule differs from TWAP by "
            f"{fmt_ci(pred['mean_diff_bps'], pred['ci_low'], pred['ci_high'], 3)} bps: "
            + (
                "the one-second OFI helps to time the slices here."
                if pred["ci_high"] < 0
                else "the sign of the last second's OFI does not buy a measurable saving on this "
                "data."
            )
            + " The differences between the means are mostly timing luck on a few overlapping "
            "minutes; the walk costs and the standard deviations are the parts that a longer "
            "recording would confirm."
        )
    return "\n\n".join(lines)
