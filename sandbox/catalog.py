"""Static reference data the sandbox answers with: marketplace details, a small product catalogue, currency factors."""

from __future__ import annotations

from decimal import Decimal

from amazon import marketplaces
from amazon.marketplaces import Marketplace

LANGUAGES = {
    "US": "en_US", "CA": "en_CA", "MX": "es_MX", "BR": "pt_BR", "UK": "en_GB", "DE": "de_DE", "FR": "fr_FR",
    "IT": "it_IT", "ES": "es_ES", "NL": "nl_NL", "SE": "sv_SE", "PL": "pl_PL", "BE": "fr_BE", "IE": "en_IE",
    "TR": "tr_TR", "AE": "en_AE", "SA": "ar_SA", "EG": "ar_EG", "IN": "en_IN", "ZA": "en_ZA", "JP": "ja_JP",
    "AU": "en_AU", "SG": "en_SG",
}  # fmt: skip

# Rough USD exchange factors so generated prices look plausible in each currency.
CURRENCY_FACTORS = {
    "USD": Decimal("1"), "CAD": Decimal("1.35"), "MXN": Decimal("17"), "BRL": Decimal("5"), "GBP": Decimal("0.8"),
    "EUR": Decimal("0.92"), "SEK": Decimal("10.5"), "PLN": Decimal("4"), "TRY": Decimal("32"), "AED": Decimal("3.67"),
    "SAR": Decimal("3.75"), "EGP": Decimal("48"), "INR": Decimal("83"), "ZAR": Decimal("18.5"), "JPY": Decimal("150"),
    "AUD": Decimal("1.5"), "SGD": Decimal("1.35"),
}  # fmt: skip
ZERO_DECIMAL_CURRENCIES = {"JPY"}

# (sku, asin, title, USD price)
PRODUCTS: list[tuple[str, str, str, Decimal]] = [
    ("SBX-MUG-001", "B0SBX00001", "Sandbox ceramic mug, 350 ml", Decimal("12.99")),
    ("SBX-TEA-002", "B0SBX00002", "Sandbox green tea, 100 bags", Decimal("8.49")),
    ("SBX-LAMP-003", "B0SBX00003", "Sandbox LED desk lamp", Decimal("34.90")),
    ("SBX-BAG-004", "B0SBX00004", "Sandbox canvas tote bag", Decimal("15.00")),
    ("SBX-PEN-005", "B0SBX00005", "Sandbox gel pens, pack of 12", Decimal("6.75")),
    ("SBX-CABLE-006", "B0SBX00006", "Sandbox USB-C cable, 2 m", Decimal("9.99")),
    ("SBX-BOTTLE-007", "B0SBX00007", "Sandbox steel water bottle", Decimal("21.50")),
    ("SBX-SOCK-008", "B0SBX00008", "Sandbox wool socks, 3 pairs", Decimal("18.00")),
    ("SBX-BOOK-009", "B0SBX00009", "Sandbox notebook, A5 dotted", Decimal("7.95")),
    ("SBX-TOWEL-010", "B0SBX00010", "Sandbox cotton towel set", Decimal("29.99")),
]


def marketplace(marketplace_id: str) -> Marketplace | None:
    return marketplaces.BY_ID.get(marketplace_id)


def country_code(m: Marketplace) -> str:
    # Amazon's site code for the United Kingdom is UK, but country codes are ISO 3166 (GB).
    return "GB" if m.site == "UK" else m.site


def marketplace_name(m: Marketplace) -> str:
    return "Amazon" + m.amazon_domain[len("amazon") :]


def price_in(currency: str, usd: Decimal) -> Decimal:
    value = usd * CURRENCY_FACTORS.get(currency, Decimal("1"))
    if currency in ZERO_DECIMAL_CURRENCIES:
        return value.quantize(Decimal("1"))
    return value.quantize(Decimal("0.01"))


def money(amount: Decimal, currency: str) -> dict[str, str]:
    places = Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return {"amount": str(amount.quantize(places)), "currencyCode": currency}


def marketplace_ids_for_region(region: str) -> list[str]:
    return [m.marketplace_id for m in marketplaces.MARKETPLACES if m.region == region]


def region_for_seller_central_host(host: str) -> str | None:
    for m in marketplaces.MARKETPLACES:
        if m.seller_central_host == host:
            return m.region
    return None


def seller_central_host_for_region(region: str) -> str:
    """The Seller Central host of the region's first marketplace (where Manage your apps lives)."""
    return next(m.seller_central_host for m in marketplaces.MARKETPLACES if m.region == region)
