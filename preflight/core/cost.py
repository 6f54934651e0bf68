# Money, exactly. Rules:
# - Decimal throughout, never float: prices are Decimals in the tables and
#   token counts are ints, so every cost here is exact;
# - cost = tokens x the model's price per input token (vision guide), with
#   the Message Batches discount as an option (current docs);
# - formatting for people reads like the vision guide ("$0.0048", "$4.80");
#   machine output uses plain_decimal (exact, never scientific notation).

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from preflight.core.tables import BATCH_DISCOUNT, MILLION, Model, get_model


def price_per_token(model: str | Model, *, batch: bool = False) -> Decimal:
    price = get_model(model).input_usd_per_mtok / MILLION
    return price * BATCH_DISCOUNT if batch else price


def image_cost(tokens: int, model: str | Model, *, batch: bool = False) -> Decimal:
    """Exact USD for `tokens` input tokens on `model`."""
    return tokens * price_per_token(model, batch=batch)


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
    if abs(value) >= 1:
        return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,f}"
    exponent = value.adjusted() - 1  # keep two significant digits
    quantum = Decimal(1).scaleb(min(exponent, -2))
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_EVEN):f}"
    if abs(value) < Decimal("0.01"):  # "$0.004", not "$0.0040"; but "$0.10" stays
        text = text.rstrip("0")
    return f"${text}"
