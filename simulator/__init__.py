"""The exchange side of the wire: exchange-protocol WS/REST from captures or a synthetic market.

Connectors are tested against it with no internet: point their endpoints at the simulator and
they speak each venue's real protocol, paths and message shapes.

Python API::

    from ttxt_kafka.simulator import Simulator, CaptureSource, SyntheticSource

    sim = Simulator("binance", SyntheticSource(seed=1, symbols=["BTCUSDT"], rate=None))
    await sim.start()               # binds 127.0.0.1:<free port> unless port= is given
    sim.ws_url, sim.rest_url        # ws://127.0.0.1:PORT, http://127.0.0.1:PORT
    sim.inject("drop_message")      # or sim.inject(Fault(kind="delay", ms=500))
    await sim.wait_finished()       # capture replayed / synthetic max_steps reached
    sim.state()                     # same as GET /_sim/state
    await sim.stop()

Sources: `CaptureSource(path, ..., speed=None|x, settle=0.1)` replays a cryptofeed capture to
each subscribing client; `SyntheticSource(seed, symbols, rate=steps/s per symbol | None,
max_steps)` runs a seeded market shared by all clients.

Endpoints, per venue (all on one host:port; WS and REST share it):

* `binance` (spot) - connector config: ws base `ws://HOST:PORT`, rest base `http://HOST:PORT`
    - WS  `/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade` (combined), `/ws/<stream>`, `/ws`
      with `{"method":"SUBSCRIBE","params":[...],"id":1}` (also UNSUBSCRIBE, LIST_SUBSCRIPTIONS,
      SET_PROPERTY/GET_PROPERTY `combined`). Streams: `<s>@depth[@100ms|@1000ms]`,
      `<s>@depth<5|10|20>`, `<s>@bookTicker`, `<s>@aggTrade`, `<s>@trade`, `<s>@kline_<i>`.
      The server sends ping frames (every 20 s unless `ping_interval=`); answer with pongs.
    - REST `/api/v3/depth?symbol=&limit=`, `/api/v3/exchangeInfo`, `/api/v3/time`, `/api/v3/ping`
* `binance_usdm` - same WS paths (depthUpdate carries `pu`; no `@trade`); REST under `/fapi/v1`
  (`depth` limit in 5/10/20/50/100/500/1000).
* `bybit_spot` / `bybit_linear`
    - WS `/v5/public/spot` / `/v5/public/linear`: `{"op":"subscribe","args":["orderbook.50.BTCUSDT",
      "publicTrade.BTCUSDT","kline.1.BTCUSDT","tickers.BTCUSDT"],"req_id":"1"}`,
      `{"op":"unsubscribe",...}`, and app-level `{"op":"ping"}` answered
      `{"success":true,"ret_msg":"pong",...,"op":"ping"}`
    - REST `/v5/market/instruments-info?category=`, `/v5/market/orderbook?category=&symbol=&limit=`,
      `/v5/market/time`
* control (every venue): `POST /_sim/fault` (JSON `Fault`: kind drop_connection | drop_message |
  delay | malformed_frame | stale_snapshot, and for the private side rate_limit | bad_signature |
  insufficient_balance), `GET /_sim/state`.
* the private side, with `Simulator(..., trading=TradingSettings(credentials))`: signed order
  endpoints, user data / private streams and Bybit's trade WS over a matching engine fed by
  this market (`simulator/trading/`, `sim.exchange`).

CLI: `ttxt simulate --venue binance --synthetic` prints the URLs and serves until Ctrl-C.
"""

from ttxt_kafka.simulator.captures import Capture, Frame, HttpRecord, read_capture
from ttxt_kafka.simulator.faults import Fault, FaultKind
from ttxt_kafka.simulator.feeds import Feed, Source
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.replay import CaptureSource
from ttxt_kafka.simulator.server import Simulator
from ttxt_kafka.simulator.synthetic import SyntheticSource

__all__ = [
    "Capture",
    "CaptureSource",
    "Fault",
    "FaultKind",
    "Feed",
    "Frame",
    "HttpRecord",
    "Instrument",
    "Simulator",
    "Source",
    "SyntheticSource",
    "read_capture",
]
