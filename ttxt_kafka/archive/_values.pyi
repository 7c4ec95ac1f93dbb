"""Types of the compiled block walk (`_values.c`)."""

def lean_records(body: bytes | bytearray | memoryview, count: int
                 ) -> list[tuple[int, bytes | None, int, str, int]] | None: ...
