"""OKX simulator side: public protocol, capture dialect, synthetic market, trading."""
