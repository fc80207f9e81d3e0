"""Domain events: an outbox table written in the same transaction as the change, read by
the server-sent events stream and by webhook deliveries (a durable queue in PostgreSQL)."""
