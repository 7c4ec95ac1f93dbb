"""Coinbase Advanced Trade (spot): market data and trading."""
