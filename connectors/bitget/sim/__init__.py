"""Bitget's simulator side: public WS v2 and REST, the capture dialect, the synthetic market."""
