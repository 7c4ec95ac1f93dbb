"""Trading, exchange-neutral: order command validation, client order ids, exchange requests and
error mapping, and what the private-stream normalizers share. Each exchange's own translation
lives beside its connector (`connectors/binance/orders.py`, `connectors/bybit/orders.py`)."""
