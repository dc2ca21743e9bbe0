"""Running casecenter in production: probes, Prometheus metrics, request ids in logs.

No models and no pages: plain Django views outside ``/api/`` (``/healthz``,
``/readyz``, ``/metrics``), two middlewares and a logging formatter
(docs/operations.md, "Health, metrics, logs").
"""
