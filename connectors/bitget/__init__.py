"""Bitget (API v2): spot and USDT-M perpetuals."""
