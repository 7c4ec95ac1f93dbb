"""The synthetic market, venue-neutral: instruments, an order book in integer ticks and lots,
seeded order flow, candles. Venue formatting lives in each exchange's `synthetic` module."""
