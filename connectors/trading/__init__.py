"""Trading over Kafka, the connector's side: order commands from `ttxt.<venue>.orders` placed on
the exchange (or filled on paper, or only validated), exactly once across crashes; acks, order
updates and fills out on `ttxt.<venue>.executions`, balances and positions on `.account`.

  trader.py     the loop: consumer group -> decode / dead-letter -> execute -> flush -> commit
  consumer.py   the orders topic's consumer group and its commit rule
  journal.py    acks already on the executions topic (for commands seen again after a crash)
  executor.py   one command -> one ack: validation, modes, exactly-once checks, retries
  gateway.py    what an exchange is asked (`Gateway`), `Placed` / `ExchangeFailure` answers
  paper.py      paper trading: the matching engine over the connector's own books
  private.py    private WebSocket streams (user data, Bybit private): reconnects, statuses
  answered.py   a WebSocket whose requests are answered by id (Bybit's trade API, Kraken's
                WS v2 order methods): no answer = unknown outcome
  known.py      the open orders the connector knows (to amend on Binance, cancel-all)
  build.py      which gateway and stream a venue and mode get, and their URLs
  sync_command.py  `AccountSync`: ask for open orders and wallet over REST now
  crash.py      test-only crash points (TTXT_TEST_CRASH_AT)

The exchange-specific parts live beside each connector: `connectors/binance/gateway.py`,
`user_stream.py`, `rest_private.py`; `connectors/bybit/gateway.py`, `trade_socket.py`,
`private_stream.py`; `connectors/kraken/gateway.py`, `trade_socket.py`, `private_stream.py`.
README, section "Trading", has the contract.
"""

from .trader import Trader, dead_letter_topic, trading_topics

__all__ = ["Trader", "dead_letter_topic", "trading_topics"]
