"""drf-spectacular hook: every operation documents the errors any call can meet, in the one error shape."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

_COMMON = {
    "400": "VALIDATION_ERROR or PARSE_ERROR (the field says which input)",
    "401": "NOT_AUTHENTICATED: no key, or a key that is unknown or revoked",
    "403": "PERMISSION_DENIED (the key lacks the scope) or AGENT_SUSPENDED",
    "404": "NOT_FOUND",
    "405": "METHOD_NOT_ALLOWED",
    "406": "NOT_ACCEPTABLE",
    "415": "UNSUPPORTED_MEDIA_TYPE: send application/json",
    "429": "THROTTLED: too many requests for this key; retry after Retry-After seconds",
    "500": "SERVER_ERROR: retry the same request with the same id",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/") or path.startswith(("/api/v1/schema", "/api/v1/docs")):
            continue
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status, description in _COMMON.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    # Answers carry exactly the documented keys: a stray key is a schema violation, not a silent extra.
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


class ApiKeySchemeExtension(OpenApiAuthenticationExtension):
    """Documents `Authorization: Api-Key <key>` as the API's one security scheme."""

    target_class = "vending.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: the key shown once when the terminal's key was made.",
        }
