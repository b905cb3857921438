"""The pytest plugin end to end: backend parametrization and the per-test record it writes."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

pytest_plugins = ["pytester"]

DEMO = textwrap.dedent(
    """
    import pytest

    def test_each_backend(backend_name):
        assert backend_name in ("azure", "s3")

    def test_fails_on_s3_with_a_secret(backend_name):
        assert backend_name == "azure", "AccountKey=SECRETKEY123;BlobEndpoint=x ?a=1&sig=SIG456"

    @pytest.mark.skip(reason="demo skip")
    def test_skipped():
        pass

    @pytest.mark.parametrize("backend_name", ["s3"])
    def test_own_parametrization(backend_name):
        assert backend_name == "s3"

    def test_plain():
        pass
    """
)


def _run(project: pytest.Pytester, *args: str) -> tuple[int, str]:
    """A fresh pytest process (the plugin sets os.environ, which must not leak into this
    one) on the demo suite."""
    result = project.runpytest_subprocess(
        "suites/demo", "-p", "no:cacheprovider", "-p", "no:locust", *args, timeout=240
    )
    return int(result.ret), result.stdout.str() + result.stderr.str()


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    demo = pytester.mkdir("suites") / "demo"
    demo.mkdir()
    (demo / "test_demo.py").write_text(DEMO)
    return pytester


@pytest.mark.parametrize("parallel", [["-n", "2"], ["-p", "no:xdist"]], ids=["xdist", "serial"])
def test_plugin_writes_one_entry_per_test(project: pytest.Pytester, parallel: list[str]) -> None:
    """suites/demo.json: per-backend ids, outcomes, masked messages; environment.json too."""
    run_dir = project.path / "run"
    code, output = _run(project, *parallel, "--run-dir", str(run_dir))
    assert code == 1, output
    record: dict[str, Any] = json.loads((run_dir / "suites" / "demo.json").read_text())
    outcomes = {t["nodeid"].split("::")[1]: (t["backend"], t["outcome"]) for t in record["tests"]}
    assert outcomes == {
        "test_each_backend[azure]": ("azure", "passed"),
        "test_each_backend[s3]": ("s3", "passed"),
        "test_fails_on_s3_with_a_secret[azure]": ("azure", "passed"),
        "test_fails_on_s3_with_a_secret[s3]": ("s3", "failed"),
        "test_skipped": (None, "skipped"),
        "test_own_parametrization[s3]": ("s3", "passed"),
        "test_plain": (None, "passed"),
    }
    failed = next(t for t in record["tests"] if t["outcome"] == "failed")
    assert "AccountKey=<redacted>" in failed["message"]
    assert "SECRETKEY123" not in failed["message"] and "SIG456" not in failed["message"]
    assert record["backends"]["s3"] == {"passed": 2, "failed": 1}
    assert "demo skip" in next(t for t in record["tests"] if t["outcome"] == "skipped")["message"]
    environment = json.loads((run_dir / "environment.json").read_text())
    assert environment["packages"]["azure-storage-blob"]
    assert environment["azurite"] is None or environment["azurite"].count(".") == 2


def test_backends_option_selects_and_validates(project: pytest.Pytester) -> None:
    run_dir = project.path / "run"
    code, output = _run(project, "-p", "no:xdist", "--backends", "s3", "--run-dir", str(run_dir))
    assert code == 1, output
    ids = [t["nodeid"] for t in json.loads((run_dir / "suites" / "demo.json").read_text())["tests"]]
    assert not any("[azure]" in i for i in ids)
    code, output = _run(project, "-p", "no:xdist", "--backends", "gcs")
    assert code == 4 and "--backends 'gcs'" in output
