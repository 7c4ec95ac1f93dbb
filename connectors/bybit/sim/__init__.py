"""Bybit v5 (spot, linear): wire protocol, capture reading, synthetic message formats."""
