"""ttxt-kafka: a Kafka-native, event-sourced platform for trading on crypto exchanges."""

__version__ = "0.1.0"
