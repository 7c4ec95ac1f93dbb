"""Exchange connectors: one package per exchange, plus the shared base and web layer."""
