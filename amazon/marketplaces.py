"""Amazon marketplaces: reference data (taken from the project's marketplace facts; never read at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Marketplace:
    site: str
    country: str
    marketplace_id: str
    region: str
    seller_central_host: str
    amazon_domain: str
    currency: str
    timezone: str


REGIONS: list[tuple[str, StrOrPromise]] = [
    ("NA", _("North America")),
    ("EU", _("Europe")),
    ("FE", _("Far East")),
]
REGION_CODES = [code for code, _label in REGIONS]

MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace(
        "US",
        "United States",
        "ATVPDKIKX0DER",
        "NA",
        "sellercentral.amazon.com",
        "amazon.com",
        "USD",
        "America/Los_Angeles",
    ),
    Marketplace(
        "CA",
        "Canada",
        "A2EUQ1WTGCTBG2",
        "NA",
        "sellercentral.amazon.ca",
        "amazon.ca",
        "CAD",
        "America/Los_Angeles",
    ),
    Marketplace(
        "MX",
        "Mexico",
        "A1AM78C64UM0Y8",
        "NA",
        "sellercentral.amazon.com.mx",
        "amazon.com.mx",
        "MXN",
        "America/Los_Angeles",
    ),
    Marketplace(
        "BR",
        "Brazil",
        "A2Q3Y263D00KWC",
        "NA",
        "sellercentral.amazon.com.br",
        "amazon.com.br",
        "BRL",
        "America/Sao_Paulo",
    ),
    Marketplace(
        "UK",
        "United Kingdom",
        "A1F83G8C2ARO7P",
        "EU",
        "sellercentral-europe.amazon.com",
        "amazon.co.uk",
        "GBP",
        "Europe/London",
    ),
    Marketplace(
        "DE",
        "Germany",
        "A1PA6795UKMFR9",
        "EU",
        "sellercentral-europe.amazon.com",
        "amazon.de",
        "EUR",
        "Europe/Berlin",
    ),
    Marketplace(
        "FR",
        "France",
        "A13V1IB3VIYZZH",
        "EU",
        "sellercentral-europe.amazon.com",
        "amazon.fr",
        "EUR",
        "Europe/Paris",
    ),
    Marketplace(
        "IT",
        "Italy",
        "APJ6JRA9NG5V4",
        "EU",
        "sellercentral-europe.amazon.com",
        "amazon.it",
        "EUR",
        "Europe/Rome",
    ),
    Marketplace(
        "ES",
        "Spain",
        "A1RKKUPIHCS9HS",
        "EU",
        "sellercentral-europe.amazon.com",
        "amazon.es",
        "EUR",
        "Europe/Madrid",
    ),
    Marketplace(
        "NL",
        "Netherlands",
        "A1805IZSGTT6HS",
        "EU",
        "sellercentral.amazon.nl",
        "amazon.nl",
        "EUR",
        "Europe/Amsterdam",
    ),
    Marketplace(
        "SE",
        "Sweden",
        "A2NODRKZP88ZB9",
        "EU",
        "sellercentral.amazon.se",
        "amazon.se",
        "SEK",
        "Europe/Stockholm",
    ),
    Marketplace(
        "PL", "Poland", "A1C3SOZRARQ6R3", "EU", "sellercentral.amazon.pl", "amazon.pl", "PLN", "Europe/Warsaw"
    ),
    Marketplace(
        "BE",
        "Belgium",
        "AMEN7PMS3EDWL",
        "EU",
        "sellercentral.amazon.com.be",
        "amazon.com.be",
        "EUR",
        "Europe/Brussels",
    ),
    Marketplace(
        "IE",
        "Ireland",
        "A28R8C7NBKEWEA",
        "EU",
        "sellercentral.amazon.ie",
        "amazon.ie",
        "EUR",
        "Europe/Dublin",
    ),
    Marketplace(
        "TR",
        "Turkey",
        "A33AVAJ2PDY3EV",
        "EU",
        "sellercentral.amazon.com.tr",
        "amazon.com.tr",
        "TRY",
        "Europe/Istanbul",
    ),
    Marketplace(
        "AE",
        "United Arab Emirates",
        "A2VIGQ35RCS4UG",
        "EU",
        "sellercentral.amazon.ae",
        "amazon.ae",
        "AED",
        "Asia/Dubai",
    ),
    Marketplace(
        "SA",
        "Saudi Arabia",
        "A17E79C6D8DWNP",
        "EU",
        "sellercentral.amazon.sa",
        "amazon.sa",
        "SAR",
        "Asia/Riyadh",
    ),
    Marketplace(
        "EG", "Egypt", "ARBP9OOSHTCHU", "EU", "sellercentral.amazon.eg", "amazon.eg", "EGP", "Africa/Cairo"
    ),
    Marketplace(
        "IN", "India", "A21TJRUUN4KGV", "EU", "sellercentral.amazon.in", "amazon.in", "INR", "Asia/Kolkata"
    ),
    Marketplace(
        "ZA",
        "South Africa",
        "AE08WJ6YKNBMC",
        "EU",
        "sellercentral.amazon.co.za",
        "amazon.co.za",
        "ZAR",
        "Africa/Johannesburg",
    ),
    Marketplace(
        "JP",
        "Japan",
        "A1VC38T7YXB528",
        "FE",
        "sellercentral.amazon.co.jp",
        "amazon.co.jp",
        "JPY",
        "Asia/Tokyo",
    ),
    Marketplace(
        "AU",
        "Australia",
        "A39IBJ37TRP1C6",
        "FE",
        "sellercentral.amazon.com.au",
        "amazon.com.au",
        "AUD",
        "Australia/Sydney",
    ),
    Marketplace(
        "SG",
        "Singapore",
        "A19VAU5U5O7RUS",
        "FE",
        "sellercentral.amazon.sg",
        "amazon.sg",
        "SGD",
        "Asia/Singapore",
    ),
)

BY_SITE: dict[str, Marketplace] = {m.site: m for m in MARKETPLACES}
BY_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in MARKETPLACES}

# Country names for the site checkboxes, marked for translation.
COUNTRY_LABELS = {
    "US": _("United States"),
    "CA": _("Canada"),
    "MX": _("Mexico"),
    "BR": _("Brazil"),
    "UK": _("United Kingdom"),
    "DE": _("Germany"),
    "FR": _("France"),
    "IT": _("Italy"),
    "ES": _("Spain"),
    "NL": _("Netherlands"),
    "SE": _("Sweden"),
    "PL": _("Poland"),
    "BE": _("Belgium"),
    "IE": _("Ireland"),
    "TR": _("Turkey"),
    "AE": _("United Arab Emirates"),
    "SA": _("Saudi Arabia"),
    "EG": _("Egypt"),
    "IN": _("India"),
    "ZA": _("South Africa"),
    "JP": _("Japan"),
    "AU": _("Australia"),
    "SG": _("Singapore"),
}


def sites_in_region(region: str) -> list[Marketplace]:
    return [m for m in MARKETPLACES if m.region == region]


def site_label(site: str) -> str:
    return f"{COUNTRY_LABELS.get(site, site)} ({site})"


def region_label(region: str) -> str:
    return str(dict(REGIONS).get(region, region))
