"""KuCoin: spot (`kucoin_spot`)."""
