"""Subcommands of `crownsafe-harness`, one module each, registered with `register(commands)`."""

__all__: list[str] = []
