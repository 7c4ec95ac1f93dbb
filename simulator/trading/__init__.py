"""The simulator's private side: the exchange's trading endpoints and private streams over a
matching engine fed by the simulator's own market.

    from ttxt_kafka.simulator import Simulator, SyntheticSource
    from ttxt_kafka.simulator.trading import TradingSettings
    from ttxt_kafka.credentials import Credentials

    sim = Simulator("binance", SyntheticSource(seed=1, symbols=["BTCUSDT"]),
                    trading=TradingSettings(Credentials(KEY, SECRET)))
    await sim.start()
    sim.exchange.engine          # the matching engine: orders, balances, positions
    sim.inject("rate_limit")     # the next order request is answered with a rate-limit error

Per venue (each exchange's `connectors/<exchange>/sim/trading.py`): signed REST order endpoints
verified like the exchange (signature and timestamp window), Binance spot's WebSocket API user data
subscription, Binance USD-M listen keys and `/ws/<listenKey>`, Bybit's private WS and trade WS.
Faults: `rate_limit`, `bad_signature`, `insufficient_balance` (the next `count` order
requests), and `drop_connection`, which cuts private sockets as it cuts public ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.venues import Part

from .exchange import SimExchange
from .settings import DEFAULT_BALANCES, TradingSettings

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator


class PrivateSide:
    """A venue's trading protocol over a `SimExchange`, mounted on a simulator."""

    def __init__(self, sim: Simulator, settings: TradingSettings) -> None:
        self.exchange = SimExchange(sim.spec, sim.feed, settings, sim.faults)
        self.protocol: Any = sim.spec.part(Part.SIM_TRADING)(sim, self.exchange)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        self.protocol.add_routes(router)

    async def start(self) -> None:
        await self.exchange.start()

    async def stop(self) -> None:
        await self.exchange.stop()

    def state(self) -> dict[str, Any]:
        return self.exchange.state()


__all__ = ["DEFAULT_BALANCES", "PrivateSide", "SimExchange", "TradingSettings"]
