import asyncio

from ttxt_kafka.book import Book
from ttxt_kafka.bootstrap import bootstrap_servers
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.handler import BaseClient
from ttxt_kafka.strategies.rebuild import seek_to_latest_snapshots
from ttxt_kafka.topics import topic


class MidPrinter(BaseClient):
    def __init__(self, queue):
        super().__init__(queue)
        self.books: dict[str, Book] = {}

    def on_orderbook(self, event):
        book = self.books.setdefault(event.symbol, Book())
        if book.update(event):            # snapshot or delta, one call
            bid, ask = book.best_bid(), book.best_ask()   # (price, qty) strings, or None
            print(event.symbol, bid and bid[0], ask and ask[0], book.mid(), flush=True)


async def main():
    # KAFKA_BOOTSTRAP_SERVERS, else the broker `ttxt kafka start` runs: found like the CLI does
    queue = KafkaQueue(bootstrap_servers(), topics=[topic("binance", "book")], group_id="mids")
    async with queue:
        await seek_to_latest_snapshots(queue)  # start from the latest snapshot on the topic
        await MidPrinter(queue).run()

asyncio.run(main())
