"""The CORS check (the seed's known issue 4: CORS is set on the storage account, not the
container). The front-ends the app serves (`CORS_ORIGINS`) fetch images and reports
straight from storage through SAS / presigned URLs, so the account's CORS rules (Azure's
Blob service properties, an S3 bucket's CORS configuration) must let each of them GET;
and no rule may let any origin (`*`) send credentials, i.e. the `Authorization` header a
shared key or token travels in (`*` or `authorization` among a wildcard rule's allowed
headers). A SAS / presigned URL carries its signature in the query, so a GET needs no
such header.

`judge_cors` is the rule, pure; `storage.cors` reads the rules and applies it."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from crownsafe.storage.cors import CorsRule
from harness.predeploy.context import Context
from harness.predeploy.model import Check, Outcome, failed, passed

__all__ = ["CHECKS", "CorsJudgement", "judge_cors"]

_CREDENTIAL_HEADERS = ("*", "authorization")


@dataclass(frozen=True)
class CorsJudgement:
    problems: list[str]
    summary: str


def _allows(rule: CorsRule, origin: str) -> bool:
    """`origin` matches one of the rule's origins: `*`, the origin itself (case aside), or
    an S3 pattern with one `*` (`https://*.example.com`)."""
    wanted = origin.lower().rstrip("/")
    return any(
        allowed == "*" or fnmatchcase(wanted, allowed.lower().rstrip("/"))
        for allowed in rule.origins
    )


def _describe(rule: CorsRule) -> str:
    headers = f", headers {','.join(rule.headers)}" if rule.headers else ""
    return (
        f"origins {','.join(rule.origins) or '-'}, methods {','.join(rule.methods) or '-'}{headers}"
    )


def judge_cors(rules: list[CorsRule], origins: list[str]) -> CorsJudgement:
    """What is wrong with `rules` for the app's `origins` (empty: nothing), and a one-line
    summary of what was checked."""
    problems: list[str] = []
    for number, rule in enumerate(rules, 1):
        credentials = [h for h in rule.headers if h in _CREDENTIAL_HEADERS]
        if "*" in rule.origins and credentials:
            problems.append(
                f"CORS rule {number} allows any origin ('*') with credentials (allowed header "
                f"{credentials[0]!r} lets any web page send the Authorization header): "
                f"{_describe(rule)}"
            )
    for origin in origins:
        if not any(_allows(rule, origin) and "GET" in rule.methods for rule in rules):
            problems.append(
                f"CORS_ORIGINS origin {origin!r} may not GET through SAS / presigned URLs: "
                f"no CORS rule allows it with GET ({len(rules)} rule(s))"
            )
    wanted = f"{len(origins)} CORS_ORIGINS origin(s) may GET" if origins else "CORS_ORIGINS empty"
    return CorsJudgement(
        problems,
        f"{len(rules)} account CORS rule(s): {wanted}; no rule allows any origin with credentials",
    )


def _fix(backend: str) -> str:
    if backend == "azure":
        return (
            "CORS is an account setting: az storage cors clear/add --services b --methods GET "
            "HEAD --origins <each CORS_ORIGINS origin> --allowed-headers 'x-ms-*' "
            "(never '*' origins with '*' or Authorization headers)"
        )
    return (
        "aws s3api put-bucket-cors with a rule AllowedOrigins=<each CORS_ORIGINS origin>, "
        "AllowedMethods=GET,HEAD (never '*' origins with '*' or Authorization headers)"
    )


def _cors(ctx: Context) -> Outcome:
    client = ctx.storage()
    read = getattr(client, "cors_rules", None)
    if not callable(read):
        return failed(f"{type(client).__name__} cannot report its CORS rules", "a bug")
    rules: list[CorsRule] = read()
    judged = judge_cors(rules, ctx.require_settings().cors_origin_list)
    if judged.problems:
        return failed("; ".join(judged.problems), _fix(client.backend))
    return passed(judged.summary)


CHECKS = (
    Check(
        "storage.cors",
        "the account's CORS rules let CORS_ORIGINS GET via SAS, no '*' with credentials",
        _cors,
        needs=("storage.container-exists",),
    ),
)
