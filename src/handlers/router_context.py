"""What a route of an included Router (operations, Steps 1-4) reads of its request's caller:
the org and the actor `handlers.api.handler` stored in the resolver's context."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router


def caller_org(router: Router) -> str:
    org = router.context.get("caller_org")  # stored by handlers.api.handler for this request
    if not isinstance(org, str):
        raise PermissionError("no caller org for this request")
    return org


def caller_actor(router: Router) -> str:
    actor = router.context.get("caller_actor")
    return actor if isinstance(actor, str) else "unknown"
