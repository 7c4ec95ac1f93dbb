"""KuCoin's simulator side: public wire protocol, capture dialect, synthetic market."""
