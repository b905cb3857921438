"""The verification harness of Crown Safe: the `crownsafe-harness` command and its pytest plugin.

Nothing is re-exported here, so importing one part of the harness does not pull in the
rest. `cli` and `commands` (the command line), `plugin` and `fixtures` (the pytest side),
`services` (emulators and the app as processes or containers), `stages` (the steps of
`crownsafe-harness run`), `runfolder` (the models of every run-folder file), `report`
(the HTML report), `bench`, `loadtest`, `faults`, `predeploy` and `targets`; the modules
`environment`, `identity`, `logscan`, `progress` and `testdata`.
"""

from __future__ import annotations

__all__ = [
    "bench",
    "cli",
    "commands",
    "environment",
    "faults",
    "fixtures",
    "identity",
    "loadtest",
    "logscan",
    "plugin",
    "predeploy",
    "progress",
    "report",
    "runfolder",
    "services",
    "stages",
    "targets",
    "testdata",
]
