"""`Authorization: Api-Key <key>`: the terminal behind a key, its scopes, and a throttle per key."""

from dataclasses import dataclass

from django.conf import settings
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from vending.models import AgentTerminal, ApiKey
from vending.services.agents import key_hash

KEYWORD = "Api-Key"


@dataclass(frozen=True)
class ApiClient:
    """request.user of an API call: the terminal, its agent and what its key may do."""

    terminal: AgentTerminal
    key_id: int
    key_prefix: str
    scopes: frozenset[str]

    is_authenticated = True

    @property
    def agent_id(self) -> int:
        return self.terminal.agent_id


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD or not key.strip():
            raise exceptions.AuthenticationFailed(f"Send the key as 'Authorization: {KEYWORD} <key>'.")
        api_key = (
            ApiKey.objects.select_related("terminal__agent")
            .filter(key_hash=key_hash(key.strip()), revoked_at__isnull=True)
            .first()
        )
        if api_key is None or not api_key.terminal.is_active:
            raise exceptions.AuthenticationFailed("This API key is unknown or revoked, or its terminal is off.")
        client = ApiClient(
            terminal=api_key.terminal, key_id=api_key.pk, key_prefix=api_key.prefix, scopes=frozenset(api_key.scopes)
        )
        return client, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD  # makes a missing key a 401 (with WWW-Authenticate), not a 403


class HasScope(permissions.BasePermission):
    """The view's `required_scope` must be among the key's scopes."""

    message = "This API key may not do this."

    def has_permission(self, request: Request, view: object) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        scope = getattr(view, "required_scope", None)
        if scope is None:
            return True
        if scope not in client.scopes:
            self.message = f"This API key lacks the '{scope}' scope."
            return False
        return True


class ApiKeyThrottle(throttling.SimpleRateThrottle):
    """Requests per key, counted in the default cache (Redis in production). Rate: API_THROTTLE_RATE."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: object) -> str | None:
        client = request.user
        if not isinstance(client, ApiClient):
            return None  # unauthenticated calls are refused before they cost anything
        return f"throttle:api_key:{client.key_id}"
