"""Bot Framework tokens for tests, checked by the SDK's real validator.

Only the network edges are replaced: the download of Microsoft's signing keys (the validator
gets our local key instead, by key id, for the Bot Framework key URL only) and the call to Entra
for the bot's own token (MSAL answers with a fixed token that the Bot Connector double expects).
Everything else (signature, audience, expiry, issuer routing) is the SDK's own code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import JwtTokenValidator

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_KEYS = "https://login.botframework.com/v1/.well-known/keys"
KEY_ID = "pulse-test-key"
OUTBOUND_TOKEN = "eyTEST.entra-app-token.for-the-bot"


@dataclass
class TokenAuthority:
    """Signs inbound tokens like the Bot Framework and stands in for the two key/token endpoints."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    key_downloads: list[str] = field(default_factory=list)
    token_requests: list[tuple[str | None, str, tuple[str, ...]]] = field(default_factory=list)
    _saved: dict[str, Any] = field(default_factory=dict)

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        lifetime: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        now = int(time.time())
        claims = {"serviceurl": service_url, "nbf": now - 10, "exp": now + lifetime, "iss": issuer, "aud": app_id}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def install(self) -> None:
        manager = JwtTokenValidator._jwk_client_manager
        self._saved = {"msal": MsalAuth.get_access_token}
        authority = self

        async def signing_key(jwks_uri: str, header: dict[str, Any]) -> Any:
            authority.key_downloads.append(jwks_uri)
            if jwks_uri != BOT_FRAMEWORK_KEYS or header.get("kid") != KEY_ID:
                raise jwt.PyJWKClientError(f"no signing key {header.get('kid')!r} at {jwks_uri}")
            return authority.key.public_key()

        async def entra_token(self: MsalAuth, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
            authority.token_requests.append((self.configuration.CLIENT_ID, resource_url, tuple(scopes)))
            return OUTBOUND_TOKEN

        manager.get_signing_key = signing_key  # type: ignore[method-assign]
        MsalAuth.get_access_token = entra_token  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._saved:
            vars(JwtTokenValidator._jwk_client_manager).pop("get_signing_key", None)
            MsalAuth.get_access_token = self._saved["msal"]  # type: ignore[method-assign]
            self._saved = {}
