"""Operations: liveness and readiness probes, structured request logs, Prometheus metrics."""
