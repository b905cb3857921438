"""`crownsafe-harness token`: mint a bearer token for a user of the Crown Safe API.

For tests and operators. The signing key is the API's JWT_SECRET, read from the
environment (or `--secret-env NAME`); the token is printed alone on stdout, so
`TOKEN=$(crownsafe-harness token --user 42)` works. The key itself is never printed.
"""

from __future__ import annotations

import argparse
import sys

from crownsafe.cli_arguments import positive_float, positive_int

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "token",
        help="mint a bearer token for the API",
        description="Print a signed bearer token (HS256 JWT, user id in `sub`) for the API.",
    )
    parser.add_argument("--user", type=positive_int, required=True, help="the user id (1 or more)")
    parser.add_argument(
        "--ttl", type=positive_float, default=3600.0, help="lifetime in seconds (default 3600)"
    )
    parser.add_argument(
        "--secret-env",
        default="JWT_SECRET",
        help="environment variable holding the signing key (default JWT_SECRET)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from crownsafe.api.auth import mint_token
    from crownsafe.config import check_jwt_secret, load_settings, read_dotenv
    from crownsafe.errors import ConfigError
    from harness.settings import process_environment

    secret = process_environment().get(args.secret_env, "")
    if not secret:
        print(f"token: {args.secret_env} is not set; export the API's signing key", file=sys.stderr)
        return 2
    try:
        check_jwt_secret(secret, args.secret_env)
        # the app's other settings (issuer) as it would load them, with this key as its own
        settings = load_settings({**read_dotenv(), **process_environment(), "JWT_SECRET": secret})
        token = mint_token(args.user, settings, args.ttl)
    except ConfigError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0
