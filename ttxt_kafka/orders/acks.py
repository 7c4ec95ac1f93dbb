"""OrderAck builders: every command gets exactly one answer, accepted, rejected or not sent.

Pure: the caller passes the time. The ack carries the command's header (venue, symbol), its
id and type, the client order id the order has (or would have had), and for a rejection the
reason and, when the exchange gave one, its error code.
"""

from __future__ import annotations

from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CommandType,
    CreateOrder,
    Event,
    OrderAck,
)

NOT_SENT_REASON = "trading mode off: validated, not sent"

COMMAND_TYPES: dict[type[Event], CommandType] = {
    CreateOrder: CommandType.CREATE,
    CancelOrder: CommandType.CANCEL,
    AmendOrder: CommandType.AMEND,
    CancelAllOrders: CommandType.CANCEL_ALL,
}


def command_type(command: Event) -> CommandType:
    try:
        return COMMAND_TYPES[type(command)]
    except KeyError:
        raise TypeError(f"{type(command).__name__} is not an order command") from None


def _ack(command: Event, status: AckStatus, *, now_us: int, exchange_ts: int | None,
         reason: str, error_code: str | None, client_order_id: str | None,
         order_id: str | None) -> OrderAck:
    cid = client_order_id if client_order_id is not None else (
        getattr(command, "client_order_id", None) or None)
    oid = order_id if order_id is not None else getattr(command, "order_id", None)
    return OrderAck(
        venue=command.venue, symbol=command.symbol, native_symbol=command.native_symbol,
        exchange_ts=exchange_ts if exchange_ts is not None else now_us, receive_ts=now_us,
        command_id=getattr(command, "command_id", ""), command_type=command_type(command),
        client_order_id=cid, order_id=oid, status=status, reason=reason,
        error_code=error_code)


def rejected_ack(command: Event, reason: str, *, now_us: int, error_code: str | None = None,
                 exchange_ts: int | None = None, client_order_id: str | None = None,
                 order_id: str | None = None) -> OrderAck:
    return _ack(command, AckStatus.REJECTED, now_us=now_us, exchange_ts=exchange_ts,
                reason=reason, error_code=error_code, client_order_id=client_order_id,
                order_id=order_id)


def accepted_ack(command: Event, *, now_us: int, exchange_ts: int | None = None,
                 client_order_id: str | None = None, order_id: str | None = None) -> OrderAck:
    return _ack(command, AckStatus.ACCEPTED, now_us=now_us, exchange_ts=exchange_ts, reason="",
                error_code=None, client_order_id=client_order_id, order_id=order_id)


def not_sent_ack(command: Event, *, now_us: int, client_order_id: str | None = None,
                 reason: str = NOT_SENT_REASON) -> OrderAck:
    return _ack(command, AckStatus.NOT_SENT, now_us=now_us, exchange_ts=None, reason=reason,
                error_code=None, client_order_id=client_order_id, order_id=None)
