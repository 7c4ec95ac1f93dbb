"""Shared connector machinery: web layer (WS, REST, rate limits), connector base, book-sync
contract, symbol mapping, normalizer helpers."""
