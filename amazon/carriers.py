"""Amazon's carrier codes for a shipment confirmation (confirmShipment's `packageDetail.carrierCode`).

Reference data, like amazon/marketplaces.py: the portal offers these codes, and the sandbox (which plays Amazon)
accepts exactly these.

- The model says only that carrierCode "Identifies the carrier that will deliver the package. This field is required
  for all marketplaces" and that carrierName is "Required when `carrierCode` is \"Other\""
  (tests/fixtures/amazon-models/ordersV0.json, definitions.PackageDetail).
- "The CarrierCode value must match the options listed in Seller Central exactly. Missing or incorrect values will
  lead to errors and the respective orders will remain unconfirmed. Only if the selling partner is using an unlisted
  carrier, can they use the CarrierCode value of 'Other' and then provide the carrier name in the CarrierName field"
  (github:amzn/selling-partner-api-docs issue #772; also #413). Exactly means case too: "PUROLATOR" for "Purolator"
  was taken as Other (issue #2530 of the same repository).
- The list: the CarrierCode enumeration of Amazon's feed schema amzn-base.xsd (Seller Central help G641 points to it;
  issue #2530 links images-na.ssl-images-amazon.com/images/G/01/rainier/help/xsd/release_4_1/amzn-base.xsd), in
  the order of that enumeration. That file is old ("The list is really old, Amazon never updated it", #2530); a
  carrier missing here is sent as "Other" with its name, which Amazon accepts. "Amazon Shipping" is added: Amazon
  answered 204 to it (github:amzn/selling-partner-api-models issue #5232).
"""

from __future__ import annotations

OTHER = "Other"

CARRIER_CODES: tuple[str, ...] = (
    "USPS", "UPS", "UPSMI", "FedEx", "DHL", "Fastway", "GLS", "GO!", "Hermes Logistik Gruppe", "Royal Mail",
    "Parcelforce", "City Link", "TNT", "Target", "SagawaExpress", "NipponExpress", "YamatoTransport",
    "DHL Global Mail", "UPS Mail Innovations", "FedEx SmartPost", "OSM", "OnTrac", "Streamlite", "Newgistics",
    "Canada Post", "Blue Package", "Chronopost", "Deutsche Post", "DPD", "La Poste", "Parcelnet", "Poste Italiane",
    "SDA", "Smartmail", "FEDEX_JP", "JP_EXPRESS", "NITTSU", "SAGAWA", "YAMATO", "BlueDart", "AFL/Fedex", "Aramex",
    "India Post", "Professional", "DTDC", "Overnite Express", "First Flight", "Delhivery", "Lasership",
    "Amazon Shipping", OTHER,
)  # fmt: skip


def is_carrier_code(code: str) -> bool:
    """One of Amazon's codes, compared exactly (issue #2530: case matters)."""
    return code in CARRIER_CODES
