"""storage.cors's rule (harness.predeploy.checks.cors.judge_cors), pure: each CORS_ORIGINS
origin may GET, and no rule lets any origin send credentials."""

from __future__ import annotations

from crownsafe.storage.cors import CorsRule
from harness.predeploy.checks.cors import judge_cors

APP = "https://app.crownsafe.example"


def test_an_origin_allowed_to_get_passes() -> None:
    rules = [CorsRule.of(f"{APP},https://admin.crownsafe.example", "GET,HEAD", "x-ms-*")]
    judged = judge_cors(rules, [APP])
    assert judged.problems == []
    assert "1 CORS_ORIGINS origin(s) may GET" in judged.summary


def test_a_missing_origin_fails_naming_it() -> None:
    rules = [CorsRule.of(["https://other.example"], ["GET"])]
    [problem] = judge_cors(rules, [APP]).problems
    assert repr(APP) in problem and "may not GET" in problem


def test_an_origin_allowed_only_to_put_may_not_get() -> None:
    [problem] = judge_cors([CorsRule.of([APP], ["PUT"])], [APP]).problems
    assert repr(APP) in problem


def test_no_rules_at_all_fail_every_configured_origin_and_pass_none_configured() -> None:
    assert len(judge_cors([], [APP, "https://b.example"]).problems) == 2
    assert judge_cors([], []).problems == []


def test_a_wildcard_origin_with_credentials_fails() -> None:
    for headers in ("*", "Authorization", "x-ms-meta-*,authorization"):
        [problem] = judge_cors([CorsRule.of("*", "GET", headers)], []).problems
        assert "any origin ('*') with credentials" in problem


def test_a_wildcard_origin_without_credentials_lets_an_origin_get() -> None:
    assert judge_cors([CorsRule.of("*", "GET", "x-ms-*")], [APP]).problems == []


def test_an_s3_origin_pattern_and_case_match() -> None:
    rules = [CorsRule.of(["https://*.CROWNSAFE.example"], ["get"])]
    assert judge_cors(rules, [APP]).problems == []
    assert judge_cors(rules, ["https://crownsafe.example.evil.test"]).problems
