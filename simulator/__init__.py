"""The exchange side of the wire: exchange-protocol WS/REST from captures or a synthetic market."""
