"""The replayer service and the in-process replay API."""
