"""Instruments: what a quantity on a market is worth.

A *linear* market (spot, USD-M futures) quotes quantities in the base asset, so a level's
quote value is ``price * qty``. An *inverse* market (Binance COIN-M futures) quotes
quantities in contracts of a fixed quote value, so a level's quote value is
``qty * contract_value`` whatever the price.

An :class:`Instrument` declares a market once, as hftbacktest declares its asset: contract
type and value, and maker and taker fees. Every stage asks it (:func:`instrument`); none
hard-codes a contract size or a fee, and none branches on the contract type itself.

Examples
--------
>>> contract_value("cm", "btcusd_perp"), contract_value("usdm", "btcusdt")
(100.0, None)
>>> btc = instrument("cm", "btcusd_perp")
>>> btc.inverse, btc.taker_fee_bps, btc.quote_value(60_000.0, 3.0)
(True, 5.0, 300.0)
>>> instrument("spot", "btcusdt").quote_value(60_000.0, 0.5)
30000.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = [
    "BINANCE_FEES_BPS",
    "COIN_M_CONTRACT_VALUE_USD",
    "Instrument",
    "contract_value",
    "fees_bps",
    "instrument",
]

MARKETS = ("spot", "usdm", "cm")

BINANCE_FEES_BPS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"spot": (10.0, 10.0), "usdm": (2.0, 5.0), "cm": (2.0, 5.0)}
)
"""(maker, taker) fee in bps per market: Binance's regular tier (VIP 0) in 2024, no BNB
discount. Spot 0.10 % / 0.10 %; USD-M and COIN-M futures 0.02 % / 0.05 %."""

COIN_M_CONTRACT_VALUE_USD: Mapping[str, float] = MappingProxyType(
    {"BTCUSD_PERP": 100.0, "ETHUSD_PERP": 10.0}
)
"""USD value of one contract of the Binance COIN-M perpetuals in the bundled data."""


def contract_value(market: str, symbol: str) -> float | None:
    """Quote value of one contract, or None for a linear market.

    COIN-M (``market="cm"``) futures are quoted in contracts of a fixed USD value, looked up
    in :data:`lobutils.markets.COIN_M_CONTRACT_VALUE_USD` by the upper-case symbol. Spot and
    USD-M markets are linear (quantities in the base asset): None.

    Parameters
    ----------
    market : str
        ``"spot"``, ``"usdm"`` or ``"cm"``.
    symbol : str
        Symbol in any case (``"btcusd_perp"``).

    Returns
    -------
    float or None
        Quote (USD) value of one contract; None for a linear market.

    Raises
    ------
    KeyError
        For a COIN-M symbol the mapping does not know: guessing a contract size would make
        every quote value wrong by a constant factor.

    Examples
    --------
    >>> contract_value("cm", "ethusd_perp"), contract_value("spot", "btcusdt")
    (10.0, None)
    """
    if market != "cm":
        return None
    key = symbol.upper()
    if key not in COIN_M_CONTRACT_VALUE_USD:
        raise KeyError(
            f"no contract value for COIN-M symbol {key!r}; add it to "
            f"lobutils.markets.COIN_M_CONTRACT_VALUE_USD (known: {sorted(COIN_M_CONTRACT_VALUE_USD)})"
        )
    return float(COIN_M_CONTRACT_VALUE_USD[key])


def fees_bps(market: str) -> tuple[float, float]:
    """(maker, taker) fee in bps for a market of :data:`BINANCE_FEES_BPS`.

    Parameters
    ----------
    market : str
        ``"spot"``, ``"usdm"`` or ``"cm"``.

    Returns
    -------
    tuple of float
        The maker and the taker fee per side, in basis points of traded value.

    Raises
    ------
    ValueError
        For a market without default fees.

    Examples
    --------
    >>> fees_bps("spot"), fees_bps("cm")
    ((10.0, 10.0), (2.0, 5.0))
    """
    if market not in BINANCE_FEES_BPS:
        raise ValueError(f"no default fees for market {market!r} (known: {list(MARKETS)})")
    return BINANCE_FEES_BPS[market]


@dataclass(frozen=True)
class Instrument:
    """One market, declared once: contract terms and fees.

    Parameters
    ----------
    market, symbol : str
        The market (``"spot"``, ``"usdm"``, ``"cm"``) and its symbol.
    contract_value : float or None
        Quote value of one contract for an inverse market; None for a linear one.
    maker_fee_bps, taker_fee_bps : float
        Fees per side in basis points of traded value (negative for a rebate).

    Examples
    --------
    >>> eth = Instrument("cm", "ethusd_perp", 10.0, 2.0, 5.0)
    >>> eth.qty_for_value(1_000.0, 2_500.0), eth.value_of(2_500.0, 4.0)
    (100.0, 40.0)
    """

    market: str
    symbol: str
    contract_value: float | None
    maker_fee_bps: float
    taker_fee_bps: float

    def __post_init__(self):
        if self.contract_value is not None and not (
            math.isfinite(self.contract_value) and self.contract_value > 0
        ):
            raise ValueError(
                f"contract_value must be a positive number, got {self.contract_value!r}"
            )

    @property
    def inverse(self) -> bool:
        """True for an inverse market (quantities in contracts of a fixed quote value)."""
        return self.contract_value is not None

    def quote_value(self, price, qty):
        """Quote-currency value of ``qty`` at ``price`` (scalars or arrays).

        Linear: ``price * qty``. Inverse: ``qty * contract_value``, whatever the price.

        Parameters
        ----------
        price : float or array
            Price of the base asset (unused on an inverse market).
        qty : float or array
            Quantity in the market's units (base units, or contracts).

        Returns
        -------
        float or array
            Value in quote currency.
        """
        if self.contract_value is None:
            return price * qty
        return qty * self.contract_value

    def value_of(self, price, qty):
        """Alias of :meth:`quote_value`.

        Parameters
        ----------
        price : float or array
            Price of the base asset (unused on an inverse market).
        qty : float or array
            Quantity in the market's units.

        Returns
        -------
        float or array
            Value in quote currency.
        """
        return self.quote_value(price, qty)

    def base_qty(self, price, qty):
        """Base-asset quantity of ``qty`` at ``price``: ``qty`` (linear) or
        ``qty * contract_value / price`` (inverse).

        Parameters
        ----------
        price : float or array
            Price of the base asset (unused on a linear market).
        qty : float or array
            Quantity in the market's units (base units, or contracts).

        Returns
        -------
        float or array
            Quantity in the base asset.

        Examples
        --------
        >>> Instrument.from_terms(100.0).base_qty(50_000.0, 5.0)
        0.01
        """
        if self.contract_value is None:
            return qty
        return qty * self.contract_value / price

    def qty_for_value(self, value: float, price: float) -> float:
        """The order quantity worth about ``value`` in quote currency at ``price``.

        Linear: ``value / price`` in the base asset. Inverse: a whole number of contracts,
        at least one.

        Parameters
        ----------
        value : float
            Quote value wanted, > 0.
        price : float
            Price of the base asset (unused on an inverse market), > 0.

        Returns
        -------
        float
            Units (base units, or contracts).

        Examples
        --------
        >>> linear, inverse = Instrument.from_terms(), Instrument.from_terms(100.0)
        >>> linear.qty_for_value(10_000.0, 50_000.0), inverse.qty_for_value(10_000.0, 50_000.0)
        (0.2, 100.0)
        """
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"value must be positive, got {value!r}")
        if self.contract_value is None:
            if not (price > 0 and math.isfinite(price)):
                raise ValueError(f"price must be positive, got {price!r}")
            return float(value / price)
        return float(max(1, round(value / self.contract_value)))

    @classmethod
    def from_terms(
        cls,
        contract_value: float | None = None,
        maker_fee_bps: float = 0.0,
        taker_fee_bps: float = 0.0,
    ) -> Instrument:
        """An instrument known only by its terms (no market or symbol: ``"linear"`` or
        ``"inverse"`` and an empty symbol), for code that receives a contract value.

        Parameters
        ----------
        contract_value : float, optional
            Quote value of one contract (inverse); None: linear.
        maker_fee_bps, taker_fee_bps : float
            Fees per side in bps.

        Returns
        -------
        Instrument
            With ``market`` ``"linear"`` or ``"inverse"`` and ``symbol`` ``""``.

        Examples
        --------
        >>> Instrument.from_terms(10.0).market, Instrument.from_terms().inverse
        ('inverse', False)
        """
        market = "linear" if contract_value is None else "inverse"
        return cls(market, "", contract_value, float(maker_fee_bps), float(taker_fee_bps))

    def max_qty_for_value(self, value, price):
        """The largest quantity worth at most ``value`` quote at ``price`` (arrays broadcast).

        Parameters
        ----------
        value : float
            Quote value, > 0.
        price : float or array
            Price of the base asset (unused on an inverse market).

        Returns
        -------
        numpy.ndarray or float
            ``value / price`` (linear), or whole contracts ``floor(value / contract_value)``
            (inverse), broadcast to the shape of ``price``.

        Examples
        --------
        >>> Instrument.from_terms(100.0).max_qty_for_value(250.0, [1.0, 2.0]).tolist()
        [2.0, 2.0]
        >>> Instrument.from_terms().max_qty_for_value(250.0, [1.0, 2.0]).tolist()
        [250.0, 125.0]
        """
        p = np.asarray(price, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.contract_value is None:
                return value / p
            return np.floor(value / np.full(p.shape, self.contract_value))

    def fee_bps(self, maker):
        """The fee per side in bps: maker or taker (arrays of flags broadcast).

        Parameters
        ----------
        maker : bool or array of bool
            True for a maker fill.

        Returns
        -------
        numpy.ndarray or float
            ``maker_fee_bps`` where ``maker``, else ``taker_fee_bps``.

        Examples
        --------
        >>> instrument("usdm", "btcusdt").fee_bps(np.array([True, False])).tolist()
        [2.0, 5.0]
        """
        return np.where(maker, self.maker_fee_bps, self.taker_fee_bps)

    # -- accounting in the settlement currency ------------------------------------------
    #
    # A linear market settles in the quote currency, an inverse one in the coin. These
    # methods state the difference once; callers convert settlement amounts to quote with
    # :meth:`to_quote` at a price of their choice (the arrival mid, or a fixed mid).

    def to_quote(self, price):
        """Quote per unit of settlement currency at ``price``: 1 (linear), ``price`` (inverse).

        Parameters
        ----------
        price : float or array
            Price of the base asset in quote currency.

        Returns
        -------
        float or array
            Quote currency per unit of settlement currency.

        Examples
        --------
        >>> Instrument.from_terms().to_quote(60_000.0), Instrument.from_terms(100.0).to_quote(60_000.0)
        (1.0, 60000.0)
        """
        return 1.0 if self.contract_value is None else price

    def settle_value(self, price):
        """Value of one unit at ``price`` in the settlement currency, up to a constant.

        Linear: ``price``. Inverse: ``-contract_value / price`` (coin). Differences are P&L: a
        position ``q`` marked from ``p0`` to ``p1`` earns ``q * (settle_value(p1) -
        settle_value(p0))``.

        Parameters
        ----------
        price : float or array
            Price of the base asset in quote currency.

        Returns
        -------
        float or array
            Settlement-currency value of one unit (quote for linear, coin for inverse).

        Examples
        --------
        >>> inv = Instrument.from_terms(100.0)
        >>> round(10 * (inv.settle_value(50_000.0) - inv.settle_value(40_000.0)) * 50_000.0, 6)
        250.0
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.contract_value is None:
                return price
            return -self.contract_value / price

    def settle_sum(self, qty_price, qty_over_price):
        """``sum q_i * settle_value(p_i)`` of a fill, from the two sums of a book walk.

        Parameters
        ----------
        qty_price, qty_over_price : float or array
            ``sum q_i p_i`` and ``sum q_i / p_i`` over the levels filled.

        Returns
        -------
        float or array
            ``qty_price`` (linear) or ``-contract_value * qty_over_price`` (inverse).

        Examples
        --------
        >>> Instrument.from_terms(10.0).settle_sum(200.0, 2.0)
        -20.0
        """
        if self.contract_value is None:
            return qty_price
        return -self.contract_value * qty_over_price

    def walk_cost(self, qty, qty_price, qty_over_price, mid):
        """What a purchase of ``qty`` paid beyond the mid, in the settlement currency.

        ``sum q_i (settle_value(p_i) - settle_value(mid))``: ``qty_price - qty * mid``
        (linear) or ``contract_value * (qty / mid - qty_over_price)`` (inverse). Multiply
        by the side (-1 for a sale) for the cost of either side.

        Parameters
        ----------
        qty : float or array
            Quantity filled.
        qty_price, qty_over_price : float or array
            The walk's sums ``sum q_i p_i`` and ``sum q_i / p_i``.
        mid : float or array
            The reference mid.

        Returns
        -------
        float or array
            Cost beyond the mid in the settlement currency (positive: paid).

        Examples
        --------
        >>> Instrument.from_terms().walk_cost(2.0, 201.0, 0.0, 100.0)
        1.0
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.contract_value is None:
                return qty_price - qty * mid
            return self.contract_value * (qty / mid - qty_over_price)

    def average_price(self, qty, qty_price, qty_over_price):
        """Average fill price: ``qty_price / qty`` (linear) or the harmonic ``qty /
        qty_over_price`` (inverse); NaN where nothing filled.

        Parameters
        ----------
        qty, qty_price, qty_over_price : float or array
            Quantity filled and the walk's two sums.

        Returns
        -------
        numpy.ndarray
            Average price in quote currency, NaN where ``qty`` is 0.

        Examples
        --------
        >>> float(Instrument.from_terms(100.0).average_price(2.0, 0.0, 2.0 / 50.0))
        50.0
        """
        q = np.asarray(qty, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.contract_value is None:
                return np.where(q > 0, qty_price / q, np.nan)
            return np.where(q > 0, q / qty_over_price, np.nan)

    def fill_notional(self, qty, qty_price):
        """Quote value of a fill: ``qty_price`` (linear) or ``qty * contract_value`` (inverse).

        Parameters
        ----------
        qty, qty_price : float or array
            Quantity filled and ``sum q_i p_i``.

        Returns
        -------
        float or array
            Quote value of the fill.

        Examples
        --------
        >>> Instrument.from_terms(10.0).fill_notional(3.0, 999.0)
        30.0
        """
        if self.contract_value is None:
            return qty_price
        return qty * self.contract_value

    def price_move_value(self, p0, p1):
        """Change of one unit's quote value when the price moves from ``p0`` to ``p1``.

        Linear: ``p1 - p0``. Inverse: ``contract_value * (p1 - p0) / p0``.

        Parameters
        ----------
        p0, p1 : float or array
            Prices before and after, quote currency.

        Returns
        -------
        float or array
            Change of quote value per unit (base unit, or contract).

        Examples
        --------
        >>> Instrument.from_terms(100.0).price_move_value(50.0, 51.0)
        2.0
        """
        if self.contract_value is None:
            return p1 - p0
        return (p1 - p0) / p0 * self.contract_value


def instrument(
    market: str,
    symbol: str,
    *,
    maker_fee_bps: float | None = None,
    taker_fee_bps: float | None = None,
) -> Instrument:
    """The :class:`Instrument` of a Binance market: contract value and default fees.

    Parameters
    ----------
    market, symbol : str
        As in a segment name (``"cm"``, ``"btcusd_perp"``).
    maker_fee_bps, taker_fee_bps : float, optional
        Override the default fees of :data:`BINANCE_FEES_BPS`.

    Returns
    -------
    Instrument
        The market's terms, fees in bps per side.

    Raises
    ------
    KeyError
        For a COIN-M symbol without a known contract value.
    ValueError
        For an unknown market.

    Examples
    --------
    >>> instrument("usdm", "btcusdt", taker_fee_bps=4.0).taker_fee_bps
    4.0
    """
    maker, taker = fees_bps(market)
    return Instrument(
        market=market,
        symbol=symbol,
        contract_value=contract_value(market, symbol),
        maker_fee_bps=maker if maker_fee_bps is None else float(maker_fee_bps),
        taker_fee_bps=taker if taker_fee_bps is None else float(taker_fee_bps),
    )
