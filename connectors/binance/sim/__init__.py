"""Binance spot and USD-M futures: wire protocol, capture reading, synthetic message formats."""
