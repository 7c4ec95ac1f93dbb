"""The books a strategy reads, kept for it by the runtime from `OrderBook` events.

Each book remembers the (topic, partition) its events come from, so that when the group takes
a partition away the books of its symbols go too: an instance only keeps — and acts on — books
of partitions it owns. A book is ready from its first snapshot; a connector's BOOK_RESYNC
status makes it not ready again until the connector's next snapshot.
"""

from __future__ import annotations

from ttxt_kafka.book import Book
from ttxt_kafka.events import OrderBook

Origin = tuple[str, int]  # (topic, partition)
Key = tuple[str, str]  # (venue, symbol)


class BookKeeper:
    def __init__(self, max_depth: int | None = None) -> None:
        self.max_depth = max_depth
        self.books: dict[Key, Book] = {}
        self.origins: dict[Key, Origin] = {}

    def apply(self, event: OrderBook, origin: Origin | None = None) -> bool:
        """Apply a snapshot or delta; True if the book is ready afterwards."""
        key = (event.venue, event.symbol)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = Book(event.venue, event.symbol, self.max_depth)
        if origin is not None:
            self.origins[key] = origin
        return book.update(event) and book.ready

    def get(self, venue: str, symbol: str) -> Book | None:
        """The book if it is ready, else None."""
        book = self.books.get((venue, symbol))
        return book if book is not None and book.ready else None

    def is_ready(self, venue: str, symbol: str) -> bool:
        return self.get(venue, symbol) is not None

    def reset(self, venue: str, symbol: str) -> None:
        """The connector says the book is broken: not ready until its next snapshot."""
        book = self.books.get((venue, symbol))
        if book is not None:
            book.clear()

    def drop_origin(self, origin: Origin) -> list[Key]:
        """Forget the books fed by a partition this instance no longer owns."""
        gone = [k for k, o in self.origins.items() if o == origin]
        for key in gone:
            self.books.pop(key, None)
            self.origins.pop(key, None)
        return gone

    def ready_count(self) -> int:
        return sum(1 for b in self.books.values() if b.ready)

    def ready_symbols(self) -> list[Key]:
        return sorted(k for k, b in self.books.items() if b.ready)
