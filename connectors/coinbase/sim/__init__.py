"""The Coinbase Advanced Trade side of the simulator."""
