"""How the HTTP adapter proves who it is to the platform: one authenticator per platform mode.

- `BearerKey`: a fixed key (tests and the local runtime's own servers).
- `SecretBearerKey`: the real platform's API key, read from Secrets Manager through Powertools
  Parameters and cached (`max_age`): a rotated key is picked up within that time, no deploy.
- `SigV4Signer`: the deployed sandbox sits behind a Lambda function URL with AWS_IAM auth, so
  each request is signed with the function's own credentials (service `lambda`).
"""

from __future__ import annotations

from typing import Protocol

SECRET_MAX_AGE_S = 300


class Authenticator(Protocol):
    def headers(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        """The headers that authenticate this request (added to the ones given)."""
        ...


class BearerKey:
    def __init__(self, api_key: str) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self._api_key = api_key

    def headers(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}


class SecretBearerKey:
    def __init__(self, secret_arn: str, max_age_s: int = SECRET_MAX_AGE_S) -> None:
        if not secret_arn:
            raise ValueError("the platform API key's secret ARN must not be empty")
        self._secret_arn = secret_arn
        self._max_age_s = max_age_s

    def headers(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        from aws_lambda_powertools.utilities import parameters

        key = parameters.get_secret(self._secret_arn, max_age=self._max_age_s)
        if not isinstance(key, str) or not key:
            raise ValueError(f"secret {self._secret_arn} holds no API key string")
        return {"Authorization": f"Bearer {key}"}


class SigV4Signer:
    def __init__(self, region: str, service: str = "lambda") -> None:
        import botocore.session

        self._session = botocore.session.get_session()
        self._region = region
        self._service = service

    def headers(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self._session.get_credentials()
        if credentials is None:
            raise ValueError("no AWS credentials to sign the platform sandbox's requests")
        request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), self._service, self._region).add_auth(
            request
        )
        signed = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
        return {name: str(request.headers[name]) for name in signed if name in request.headers}
