"""`crownsafe-harness predeploy`: the migration write-up's Pre-Deployment Checklist as one
command CI can trust and that is safe to run against production.

It reads the application's own settings (`crownsafe.config.load_settings`), runs named
checks (`harness.predeploy.checks`), writes only uniquely named probe blobs under
`_crownsafe-predeploy/` and always deletes them (`harness.predeploy.probes`,
`harness.predeploy.interrupt`), and shows one report three ways (`harness.predeploy.output`).
"""

from harness.predeploy.context import Options
from harness.predeploy.model import (
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CheckResult,
    PredeployResult,
)
from harness.predeploy.runner import run_predeploy

__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CheckResult",
    "Options",
    "PredeployResult",
    "run_predeploy",
]
