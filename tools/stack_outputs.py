"""A deployed stack's outputs, the stack named directly or by a samconfig.toml environment.

Shared by tools/frontend_config.py and tools/frontend_publish.py. boto3 from .venv, so no aws
CLI is needed; credentials come from the usual places (environment, profile, SSO).
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMCONFIG = REPO_ROOT / "samconfig.toml"


class StackError(Exception):
    """Why the stack's outputs cannot be used; main() prints it and exits non-zero."""


@dataclass(frozen=True)
class Stack:
    name: str
    region: str | None  # None: boto3's default (AWS_REGION, the profile)


def stack_of_environment(config_env: str, samconfig: Path = SAMCONFIG) -> Stack:
    """The stack `sam deploy --config-env <config_env>` deploys (stack_name and region of the
    environment's global or deploy parameters, else of the default environment)."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    if config_env not in config:
        known = ", ".join(k for k in config if isinstance(config[k], dict))
        raise StackError(f"{samconfig.name} has no environment {config_env!r} (it has {known})")

    def setting(name: str) -> Any:
        for env in (config_env, "default"):
            for command in ("global", "deploy"):
                value = config.get(env, {}).get(command, {}).get("parameters", {}).get(name)
                if value:
                    return value
        return None

    name = setting("stack_name")
    if not name:
        raise StackError(f"{samconfig.name}: environment {config_env!r} names no stack_name")
    return Stack(name=str(name), region=setting("region"))


def stack_command(module: str, description: str) -> argparse.ArgumentParser:
    """The command line of `python -m tools.<module>`: which stack, and in which region."""
    parser = argparse.ArgumentParser(prog=f"python -m tools.{module}", description=description)
    add_stack_arguments(parser)
    return parser


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stack-name", help="the deployed stack's name")
    which.add_argument(
        "--config-env",
        default="dev",
        help="samconfig.toml environment whose stack to read (default: dev)",
    )
    parser.add_argument("--region", help="the stack's region (default: the environment's)")


def stack_of_arguments(args: argparse.Namespace) -> Stack:
    if args.stack_name:
        return Stack(name=args.stack_name, region=args.region)
    stack = stack_of_environment(args.config_env)
    return Stack(name=stack.name, region=args.region or stack.region)


def session_for(stack: Stack) -> boto3.session.Session:
    return boto3.session.Session(region_name=stack.region)


def stack_outputs(stack: Stack, session: boto3.session.Session) -> dict[str, str]:
    """OutputKey -> OutputValue of the stack (DescribeStacks)."""
    cloudformation = session.client("cloudformation")
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack.name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise StackError(f"cannot describe stack {stack.name}: {message}") from error
    except BotoCoreError as error:  # no credentials, no region, no network
        raise StackError(f"cannot describe stack {stack.name}: {error}") from error
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def deployed(args: argparse.Namespace) -> tuple[Stack, boto3.session.Session, dict[str, str]]:
    """The stack the command line names, a session in its region, and the stack's outputs."""
    stack = stack_of_arguments(args)
    session = session_for(stack)
    return stack, session, stack_outputs(stack, session)


def require(outputs: Mapping[str, str], names: Iterable[str], stack: Stack, why: str) -> None:
    missing = [name for name in names if not outputs.get(name)]
    if missing:
        raise StackError(
            f"stack {stack.name} has no output {', '.join(missing)}: {why}"
            f" (it has: {', '.join(sorted(outputs)) or 'no outputs'})"
        )
