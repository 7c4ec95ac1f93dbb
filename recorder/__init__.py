"""The recorder service: Kafka topics compacted into per-ticker Avro container files."""
