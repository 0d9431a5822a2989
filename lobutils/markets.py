"""Instruments: what a quantity on a market is worth.

A *linear* market (spot, USD-M futures) quotes quantities in the base asset, so a level's
quote value is ``price * qty``. An *inverse* market (Binance COIN-M futures) quotes
quantities in contracts of a fixed quote value, so a level's quote value is
``qty * contract_value`` whatever the price. Every stage asks this module; none hard-codes
a contract size.

Examples
--------
>>> contract_value("cm", "btcusd_perp"), contract_value("usdm", "btcusdt")
(100.0, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["COIN_M_CONTRACT_VALUE_USD", "contract_value"]

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
