"""Bybit v5 spot and linear market data."""
