"""MEXC spot v3 protobuf messages, generated from the official .proto files (see generate.py)."""
