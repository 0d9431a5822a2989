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
        """
        if self.contract_value is None:
            return price * qty
        return qty * self.contract_value

    def value_of(self, price, qty):
        """Alias of :meth:`quote_value`."""
        return self.quote_value(price, qty)

    def base_qty(self, price, qty):
        """Base-asset quantity of ``qty`` at ``price``: ``qty`` (linear) or
        ``qty * contract_value / price`` (inverse)."""
        if self.contract_value is None:
            return qty
        return qty * self.contract_value / price

    def qty_for_value(self, value: float, price: float) -> float:
        """The order quantity worth about ``value`` in quote currency at ``price``.

        Linear: ``value / price`` in the base asset. Inverse: a whole number of contracts,
        at least one.
        """
        if self.contract_value is None:
            return float(value / price)
        return float(max(1, round(value / self.contract_value)))


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
