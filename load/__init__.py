"""The locust side of the load suite: scenarios, SLOs, step shape, knee (see README.md).

The modules `slo_file`, `evaluate`, `histogram`, `steps` and `summary` are plain Python
(no locust import: importing locust monkey-patches the process with gevent); `shape`,
`hooks` and `scenarios` run inside locust.
"""
