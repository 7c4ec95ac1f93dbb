"""Types of the compiled body check (`_skip.c`)."""

OP_NULL: int
OP_LONG: int
OP_STRING: int
OP_SKIP: int
OP_ENUM: int
OP_RECORD: int
OP_UNION: int
OP_ARRAY: int
OP_MAP: int

class Checker:
    def __init__(self, program: list[int]) -> None: ...
    def __call__(self, data: bytes | bytearray | memoryview, pos: int) -> bool: ...
