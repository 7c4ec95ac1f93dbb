"""Gate.io v4 spot (`gateio_spot`): market data, book sync and the simulator side."""
