"""The strategy runtime (Kafka consumer groups) and example strategies."""
