"""Federation between national nodes over TAXII 2.1 itself: peers, push and pull with durable
cursors, retries, idempotent ingestion, and a receiving check at both ends."""
