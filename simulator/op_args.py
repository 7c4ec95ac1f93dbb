"""The public socket of the exchanges whose subscriptions are `{"op", "args": [...]}` requests of
(channel, instrument) args (Bitget, OKX; their keys: `keys.py`).

What they share: the text `ping` is their keepalive (answered `pong`); a request is a JSON object
whose `op` is `subscribe` or `unsubscribe` and whose `args` is a non-empty list; each arg is
checked and acknowledged `{"event": op, "arg": arg}`, and the feed learns the streams that were
new or dropped. The exchange module says how it words its errors (`refuse`, and `check` for an
arg), what an ack carries besides, and whether one bad arg refuses the whole request.
`captured_push` reads their captured frames: the pushes, without the acks and errors.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal

from ttxt_kafka.simulator.feeds import Feed
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, json_object

Problem = Literal["json", "op", "args"]


def op_request(session: Session, text: str, refuse: Callable[[], None],
               count_ping: bool = True) -> dict[str, Any] | None:
    """The request a client sent on one of these sockets, public or private; None once the text
    `ping` is answered `pong` (counted as a keepalive unless `count_ping` is False), or once
    `refuse()` has answered text that is no JSON object."""
    if text == "ping":
        if count_ping:
            session.pings_received += 1  # the keepalive is this text, not a WS ping
        session.send_text("pong")
        return None
    req = json_object(text)
    if req is None:
        refuse()
    return req


def captured_push(payload: str) -> dict[str, Any] | None:
    """A captured frame of these exchanges as a push (it has `arg` and `data`, and no `event`);
    None for pongs, acks and errors: the protocol's to generate, not replayed."""
    try:
        obj = json.loads(payload)
        obj["arg"]  # noqa: B018 - a push names its arg and has data; acks and errors do not
        obj["data"]  # noqa: B018
    except (ValueError, KeyError, TypeError):
        return None
    return None if obj.get("event") is not None else obj  # type: ignore[no-any-return]


class OpArgsConnection(ABC):
    # True: one bad arg refuses the whole request (OKX); False: each arg is answered on its own
    all_or_nothing = False

    def __init__(self, feed: Feed) -> None:
        self.feed = feed

    @abstractmethod
    def refuse(self, session: Session, problem: Problem, text: str) -> None:
        """Answer a request that is not one: not a JSON object (`json`), an `op` other than
        subscribe/unsubscribe (`op`), `args` not a non-empty list (`args`)."""

    @abstractmethod
    def check(self, session: Session, arg: Any) -> tuple[str, str] | None:
        """(name, key) of a valid arg; None after answering the error."""

    def ack(self, session: Session, op: str, arg: Any) -> None:
        session.send_json({"event": op, "arg": arg})

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # one arg per key: the push already names it

        return render

    def opened(self, session: Session) -> None:  # noqa: B027 - nothing said on open
        pass

    def on_text(self, session: Session, text: str) -> None:
        req = op_request(session, text, lambda: self.refuse(session, "json", text))
        if req is None:
            return
        op, args = req.get("op"), req.get("args")
        if op not in ("subscribe", "unsubscribe"):
            self.refuse(session, "op", text)
            return
        if not isinstance(args, list) or not args:
            self.refuse(session, "args", text)
            return
        checked = [self.check(session, arg) for arg in args] if self.all_or_nothing else None
        if checked is not None and any(c is None for c in checked):
            return
        changed: list[str] = []  # subscribe: the names new here; unsubscribe: the keys dropped
        for i, arg in enumerate(args):
            valid = checked[i] if checked is not None else self.check(session, arg)
            if valid is None:
                continue
            name, key = valid
            if op == "unsubscribe":
                if dropped := session.unsubscribe(name):
                    changed.append(dropped)
            elif name not in session.subs:
                session.subscribe(name, key)
                changed.append(name)
            self.ack(session, op, arg)
        if changed and op == "subscribe":
            self.feed.subscribed(session, changed)
        elif changed:
            self.feed.unsubscribed(session, changed)
