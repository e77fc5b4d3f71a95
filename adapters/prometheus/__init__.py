"""Prometheus metrics of the service's business and dependencies. With several worker processes,
prometheus_client keeps every value in ``PROMETHEUS_MULTIPROC_DIR`` and each scrape adds them up
(counters and histograms summed; gauges summed or maxed over live workers as each says)."""
