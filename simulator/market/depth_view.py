"""What subscribers of one depth-limited book stream hold: the top `depth` levels of the
synthetic book, and the levels that change in it per market step (entering or leaving the view
included, with size 0). Exchanges whose streams are views of the book (Bybit orderbook.<depth>,
Gate.io ob.<PAIR>.<depth>) publish from it."""

from __future__ import annotations

from .book import Book, Side
from .flow import FlowStep


class DepthView:
    """What subscribers of one `orderbook.<depth>.<symbol>` topic currently hold."""

    def __init__(self, depth: int, u: int) -> None:
        self.depth = depth
        self.u = u
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def reset(self, book: Book) -> None:
        self.bids = dict(book.bids.top(self.depth))
        self.asks = dict(book.asks.top(self.depth))

    def diff(
        self, book: Book, step: FlowStep
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Apply a step to the view; the (bids, asks) levels that changed in it."""
        bids = self._side(book.bids, self.bids, step.bids)
        asks = self._side(book.asks, self.asks, step.asks)
        bids.sort(reverse=True)
        asks.sort()
        return bids, asks

    def _side(
        self, side: Side, view: dict[int, int], changed: dict[int, int]
    ) -> list[tuple[int, int]]:
        top = set(side.top_prices(self.depth))
        out = []
        for p in view.keys() - top:  # removed, or pushed out of the view
            del view[p]
            out.append((p, 0))
        for p in top - view.keys():  # inserted, or pulled into the view
            view[p] = side.levels[p]
            out.append((p, view[p]))
        for p in changed:
            if p in view and view[p] != side.levels[p]:
                view[p] = side.levels[p]
                out.append((p, view[p]))
        return out
