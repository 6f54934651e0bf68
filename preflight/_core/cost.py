"""Money, exactly: what tokens cost in dollars, and how a cost is written out.

Rules:
- Decimal throughout, never float: prices are Decimals in the tables and
  token counts are ints, so every cost here is exact;
- cost = tokens x the model's price per input token (vision guide), with
  the Message Batches discount as an option (current docs);
- formatting for people reads like the vision guide ("$0.0048", "$4.80");
  machine output uses plain_decimal (exact, never scientific notation).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from preflight._core.tables import Model, get_model


def image_cost(
    tokens: int, model: str | Model, *, batch: bool = False, prompt_tokens: int | None = None
) -> Decimal | None:
    """Exact USD for `tokens` input tokens on `model` (None when it has no
    published price). Options.cost() is the same with the options' model."""
    from preflight._core.options import make_options

    return make_options(model=get_model(model), batch=batch, prompt_tokens=prompt_tokens).cost(
        tokens
    )


def plain_decimal(value: Decimal) -> str:
    """Exact decimal text with no exponent: Decimal('1.62E-4') -> '0.000162'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_usd(value: Decimal) -> str:
    """Like the vision guide: cents from $1 up ("$4.80"), two significant
    digits below ("$0.16", "$0.0048", "$0.00016", "$0.004"); thousands separated."""
    if value == 0:
        return "$0"
    with localcontext() as context:
        # Room for every digit of any exact cost: quantize() must not fail.
        context.prec = max(28, value.adjusted() + 30)
        return _format_usd(value)


def _format_usd(value: Decimal) -> str:
    if abs(value) >= 1:
        return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,f}"
    exponent = value.adjusted() - 1  # keep two significant digits
    quantum = Decimal(1).scaleb(min(exponent, -2))
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_EVEN):f}"
    if abs(value) < Decimal("0.01"):  # "$0.004", not "$0.0040"; but "$0.10" stays
        text = text.rstrip("0")
    return f"${text}"


def format_cost(value: Decimal | None) -> str:
    """format_usd, or 'price unknown' for a model without a published price."""
    return "price unknown" if value is None else format_usd(value)


def exact_cost(value: Decimal | None) -> str | None:
    """plain_decimal for JSON, None for an unknown price."""
    return None if value is None else plain_decimal(value)


def total_cost(values: Iterable[Decimal | None]) -> Decimal | None:
    """The exact sum; None when any cost is unknown."""
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total += value
    return total
