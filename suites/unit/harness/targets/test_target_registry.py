"""Target names, defaults per provision mode, test ids, and the built-in known-gaps files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.services.localstack import LocalStackService
from harness.services.s3 import S3Service
from harness.targets import (
    TARGETS,
    KnownGapsError,
    build_target_service,
    builtin_gaps,
    default_target,
    parse_targets,
    read_known_gaps,
)
from harness.targets._gaps import GAPS_DIR


def test_bare_backends_mean_the_default_target_of_the_mode() -> None:
    assert [t.name for t in parse_targets("azure,s3", "local")] == ["azure:azurite", "s3:moto"]
    assert [t.name for t in parse_targets("s3", "docker")] == ["s3:localstack"]
    assert [t.name for t in parse_targets(" S3 , azure ", "external")] == [
        "s3:external",
        "azure:external",
    ]


def test_repeats_collapse_and_unknown_names_list_the_known_ones() -> None:
    assert [t.name for t in parse_targets("s3,s3:moto,s3:localstack", "local")] == [
        "s3:moto",
        "s3:localstack",
    ]
    with pytest.raises(ValueError, match=r"unknown target 's3:minio'.*s3:localstack"):
        parse_targets("s3:minio", "local")


def test_default_targets_keep_the_bare_backend_as_test_id() -> None:
    localstack = TARGETS["s3:localstack"]
    assert default_target("s3", "local").test_id("local") == "s3"
    assert localstack.test_id("local") == "s3-localstack"
    assert localstack.test_id("docker") == "s3"
    assert (localstack.backend, localstack.implementation) == ("s3", "localstack")


def test_each_target_gets_its_provider_in_the_right_mode(tmp_path: Path) -> None:
    local = build_target_service(TARGETS["s3:localstack"], "local", tmp_path)
    docker = build_target_service(TARGETS["s3:localstack"], "docker")
    moto = build_target_service(TARGETS["s3:moto"], "docker")
    external = build_target_service(TARGETS["s3:external"], "local")
    assert isinstance(local, LocalStackService) and local.mode == "local"
    assert local.log_dir == tmp_path
    assert isinstance(docker, LocalStackService) and docker.mode == "docker"
    assert type(moto) is S3Service and moto.mode == "local", "moto has no image of ours"
    assert type(external) is S3Service and external.mode == "external"


@pytest.mark.parametrize("path", sorted(GAPS_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_builtin_profiles_are_valid_and_named_after_their_target(path: Path) -> None:
    profile = read_known_gaps(path)
    assert profile.target in TARGETS
    assert path.stem == profile.target.replace(":", "-")
    assert builtin_gaps(profile.target).source == f"harness/targets/gaps/{path.name}"


def test_moto_profile_lists_the_presign_refusals_it_does_not_make() -> None:
    promises = {gap.promise for gap in builtin_gaps("s3:moto").gaps}
    assert {
        "test_read_only_sas_cannot_write",
        "test_write_only_sas_cannot_read",
        "test_expired_sas_cannot_read",
        "test_tampered_sas_rejected",
        "test_sas_for_one_blob_cannot_read_another",
    } <= promises
    assert not builtin_gaps("s3:external").gaps, "no built-in profile: no known gaps"


def test_gap_match_decides_what_counts_as_the_known_gap() -> None:
    gap = builtin_gaps("s3:moto").gap_for("test_tampered_sas_rejected")
    assert gap is not None
    assert gap.explains("AssertionError: [s3] expected 403, got 200: <xml/>")
    assert not gap.explains("AssertionError: [s3] expected 403, got 500: InternalError")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('target = "s3:moto"\n[[gap]]\npromise = "x"\n', "behaviour"),
        ('target = "s3:moto"\nschema_version = 2\n', "schema_version"),
        (
            'target = "s3:moto"\n[[gap]]\npromise="x"\nbehaviour="b"\nevidence="e"\n'
            'seen=2026-01-01\nmatch="("\n',
            "match",
        ),
        (
            'target = "s3:moto"\n' + '[[gap]]\npromise="x"\nbehaviour="b"\nevidence="e"\n'
            "seen=2026-01-01\n" * 2,
            "listed twice",
        ),
        ("target = [", "known-gaps file"),
    ],
    ids=["missing-field", "future-version", "bad-regex", "repeated", "not-toml"],
)
def test_broken_profiles_name_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(KnownGapsError, match=problem) as caught:
        read_known_gaps(path)
    assert str(path) in str(caught.value)
