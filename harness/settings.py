"""Every setting the harness reads from its environment, declared once and read once.

`SETTINGS` lists each one: its variable, its default and what it means. `read_settings()`
reads all of them into one frozen `HarnessSettings`; every other module of the harness
takes its values from there (or from an object built with one) and never looks at the
environment itself. Pass `environ` to read from a mapping instead of the process's
environment: tests do, and so do the services, which may be given the environment their
child processes are to get.

Two kinds of reading stay outside `HarnessSettings`, on purpose, through
`process_environment()`: the product's own variables (`AZURE_*`, `S3_*`, `JWT_SECRET`,
`DATABASE_URL` ...), which belong to `crownsafe.config` and which predeploy exists to
inspect as they are; and the environment handed whole to a child process.

The README's table of harness variables is `settings_table()`; a unit test fails when
the two drift (`python -m harness.settings --write-readme README.md` rewrites it).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "SETTINGS",
    "HarnessSettings",
    "Setting",
    "default_of",
    "process_environment",
    "read_settings",
    "settings_table",
]


@dataclass(frozen=True)
class Setting:
    """One variable the harness reads: `attribute` is its name on `HarnessSettings`."""

    attribute: str
    variable: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("backends", "HARNESS_BACKENDS", "azure,s3", "default of pytest's `--backends`"),
    Setting(
        "provision",
        "HARNESS_PROVISION",
        "local",
        "default of `--provision` (pytest and `crownsafe-harness bench`): local, docker or "
        "external",
    ),
    Setting(
        "run_dir",
        "HARNESS_RUN_DIR",
        "",
        "run folder to record into; a pytest session records only when this or `--run-dir` "
        "names one, the commands (`run`, `bench`, `load`) make a new `reports/runs/<UTC "
        "timestamp>` without it",
    ),
    Setting(
        "reports_dir",
        "HARNESS_REPORTS_DIR",
        "reports",
        "root of `runs/` and `latest`, relative to the working directory",
    ),
    Setting("targets", "HARNESS_TARGETS", "", "default of `--targets`"),
    Setting("sas_targets", "HARNESS_SAS_TARGETS", "auto", "default of `--sas-targets`"),
    Setting(
        "bench_level",
        "HARNESS_BENCH_LEVEL",
        "quick",
        "default of `--bench-level` in `pytest benchmarks`: smoke, quick or full",
    ),
    Setting(
        "load_soak_bound",
        "HARNESS_LOAD_SOAK_BOUND_MIB_PER_H",
        "64",
        "default of `crownsafe-harness load --soak-bound` (MiB of RSS growth per hour)",
    ),
    Setting(
        "toxiproxy_url",
        "HARNESS_TOXIPROXY_URL",
        "",
        "a Toxiproxy server's API URL: the fault tests then send their toxics to it",
    ),
    Setting(
        "azurite_bin",
        "HARNESS_AZURITE_BIN",
        "",
        "the `azurite-blob` binary (default: `node_modules/.bin/azurite-blob`)",
    ),
    Setting(
        "redis_server", "HARNESS_REDIS_SERVER", "", "the `redis-server` binary (default: PATH)"
    ),
    Setting(
        "prometheus_bin",
        "HARNESS_PROMETHEUS",
        "",
        "the `prometheus` server binary of the alert drill (default: PATH)",
    ),
    Setting(
        "pg_bin",
        "HARNESS_PG_BIN",
        "",
        "folder holding `initdb` and `pg_ctl` (default: the newest /usr/lib/postgresql/*/bin)",
    ),
    Setting(
        "localstack_python",
        "HARNESS_LOCALSTACK_PYTHON",
        "",
        "Python with localstack-core (default: `.venv-localstack/bin/python`)",
    ),
    Setting(
        "localstack_image",
        "HARNESS_LOCALSTACK_IMAGE",
        "",
        "LocalStack image in docker mode (default: the pinned one)",
    ),
    Setting(
        "chromium",
        "CHROMIUM",
        "",
        "the Chromium that checks the HTML report (default: `chromium` on PATH)",
    ),
    Setting(
        "docker_host",
        "DOCKER_HOST",
        "unix:///var/run/docker.sock",
        "the Docker engine of docker mode",
    ),
    Setting(
        "azure_connection_string",
        "HARNESS_AZURE_CONNECTION_STRING",
        "",
        "external mode: the Azure account (or the next three)",
    ),
    Setting("azure_account_url", "HARNESS_AZURE_ACCOUNT_URL", "", "external mode: account URL"),
    Setting("azure_account_key", "HARNESS_AZURE_ACCOUNT_KEY", "", "external mode: account key"),
    Setting(
        "azure_account_name",
        "HARNESS_AZURE_ACCOUNT_NAME",
        "",
        "external mode: account name (default: from the URL)",
    ),
    Setting(
        "azure_connection_verify",
        "HARNESS_AZURE_CONNECTION_VERIFY",
        "",
        "external mode: CA bundle for the Azure endpoint's TLS",
    ),
    Setting("s3_endpoint_url", "HARNESS_S3_ENDPOINT_URL", "", "external mode: S3 endpoint"),
    Setting("s3_access_key_id", "HARNESS_S3_ACCESS_KEY_ID", "", "external mode: S3 key id"),
    Setting("s3_secret_access_key", "HARNESS_S3_SECRET_ACCESS_KEY", "", "external mode: S3 secret"),
    Setting("s3_region", "HARNESS_S3_REGION", "", "external mode: S3 region (default: us-east-1)"),
    Setting(
        "localstack_endpoint_url",
        "HARNESS_LOCALSTACK_ENDPOINT_URL",
        "",
        "external mode: the LocalStack of the `s3:localstack` target (keys test/test)",
    ),
    Setting("postgres_url", "HARNESS_POSTGRES_URL", "", "external mode: PostgreSQL (admin URL)"),
    Setting("redis_url", "HARNESS_REDIS_URL", "", "external mode: Redis (`redis://host:port/db`)"),
    Setting("app_url", "HARNESS_APP_URL", "", "external mode: the API's base URL"),
    Setting(
        "predeploy_pause_file",
        "HARNESS_PREDEPLOY_PAUSE_FILE",
        "",
        "tests only: predeploy's round trip waits for this file, so a test can signal it mid-probe",
    ),
)


@dataclass(frozen=True)
class HarnessSettings:
    """The values of `SETTINGS` (the defaults apply to unset or empty variables)."""

    backends: str
    provision: str
    run_dir: str
    reports_dir: str
    targets: str
    sas_targets: str
    bench_level: str
    load_soak_bound: str
    toxiproxy_url: str
    azurite_bin: str
    redis_server: str
    prometheus_bin: str
    pg_bin: str
    localstack_python: str
    localstack_image: str
    chromium: str
    docker_host: str
    azure_connection_string: str = field(repr=False)
    azure_account_url: str
    azure_account_key: str = field(repr=False)
    azure_account_name: str
    azure_connection_verify: str
    s3_endpoint_url: str
    s3_access_key_id: str
    s3_secret_access_key: str = field(repr=False)
    s3_region: str
    localstack_endpoint_url: str
    postgres_url: str = field(repr=False)
    redis_url: str = field(repr=False)
    app_url: str
    predeploy_pause_file: str

    @property
    def reports_root(self) -> Path:
        """`HARNESS_REPORTS_DIR` as an absolute path (relative ones from the cwd)."""
        return Path.cwd() / self.reports_dir


def process_environment() -> Mapping[str, str]:
    """The process's environment itself: for a child process, and for the product's own
    variables (crownsafe.config's, which predeploy inspects as they are). Never for a
    harness setting: those are `read_settings()`'s."""
    return os.environ


def read_settings(environ: Mapping[str, str] | None = None) -> HarnessSettings:
    """Read every harness setting from `environ` (default: the process's environment)."""
    env = os.environ if environ is None else environ
    values = {s.attribute: env.get(s.variable, "").strip() or s.default for s in SETTINGS}
    return HarnessSettings(**values)


def default_of(variable: str) -> str:
    """The declared default of `variable` (for a consumer that needs it as a constant)."""
    for setting in SETTINGS:
        if setting.variable == variable:
            return setting.default
    raise KeyError(f"{variable} is not a harness setting: declare it in SETTINGS")


def settings_table() -> str:
    """The README's table of harness settings (Markdown)."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else ""
        lines.append(f"| `{setting.variable}` | {default} | {setting.meaning} |")
    return "\n".join(lines)


README_BLOCK = re.compile(
    r"(<!-- harness-settings: begin[^>]*-->\n).*?(\n<!-- harness-settings: end -->)", re.S
)
"""Where the README holds `settings_table()`."""


def main(argv: list[str] | None = None) -> int:
    """Print the table; with `--write-readme PATH`, replace the README's block with it."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--write-readme"] and len(args) == 2:
        readme = Path(args[1])
        text = readme.read_text("utf-8")
        if not README_BLOCK.search(text):
            sys.stderr.write(f"{readme}: no harness-settings block\n")
            return 1
        readme.write_text(README_BLOCK.sub(lambda m: m[1] + settings_table() + m[2], text), "utf-8")
        return 0
    sys.stdout.write(settings_table() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
