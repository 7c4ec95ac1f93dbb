"""Example strategies: `spread_monitor`, `market_maker`, `candle_aggregator`.

    ttxt strategy run strategies.examples.spread_monitor:SpreadMonitor --venue binance
"""
