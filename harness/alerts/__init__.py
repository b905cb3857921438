"""The outage drill: a real Prometheus, the alert rules (time-compressed), injected storage
faults, and what fired when. `drill` runs it, `compress` copies the rules with shorter
durations, `watch` polls Prometheus' alerts, `load` is the steady upload load. The record
and its verdict are `harness.runfolder.alerts` (`alerts.json`)."""

__all__ = ["compress", "drill", "load", "watch"]
