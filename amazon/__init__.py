"""The Amazon layer: everything the portal knows about talking to Amazon, and nothing about our data.

No models and no imports from the portal's apps. The one HTTP wrapper (`http`), the endpoints per region
(`endpoints`), marketplace reference data (`marketplaces`), and one client module per API family (`lwa`, `sellers`,
`orders`, `listings`, `listings_seller`, `ads`), each raising its own subclass of `errors.AmazonError`.
See docs/architecture.md.
"""
