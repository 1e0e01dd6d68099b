"""The OpenAPI schema's error answers: every operation documents the 4xx/5xx it can give, with their JSON bodies.

One AutoSchema for the whole API instead of the same `responses={...}` copied onto every view. An operation gets a
code when its shape says it can happen: 400/413/415 with a body (or 400 with query parameters), 401/403 when it
needs a signed-in caller, 404 with an id in the path or a page number, 409 on an authenticated write, 429 where a
throttle applies (or on anonymous credential endpoints, which are throttled by address), 503 everywhere (the
database or broker is unreachable). A view that documents a code itself keeps it; a code documented with a
description only gets the error body.
"""
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTIONS = {
    "400": "Bad input: `detail` says what is wrong, or one key per field with its messages.",
    "401": "No credentials, or a token that is unknown, expired or revoked.",
    "403": "Signed in, but the caller's role does not allow this (or a session write without its CSRF token).",
    "404": "No such object among those the caller may see (or no such page).",
    "409": "It conflicts with the current state (changed meanwhile, already done, a duplicate): see `detail`.",
    "413": "The request body (or the selection) is over its size limit.",
    "415": "The body's Content-Type is not one this operation takes (JSON, or multipart where a file is uploaded).",
    "429": "Too many attempts: wait for Retry-After seconds.",
    "503": "The database or the broker is unreachable for now: retry after Retry-After seconds.",
}

ERROR_BODY = {
    "type": "object",
    "description": "An error: `detail` says what is wrong; some errors add context (ids, limits).",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}

# DRF's field errors: {"field": ["message", ...]}, nested for nested input; or {"detail": "..."}.
VALIDATION_ERROR_BODY = {
    "type": "object",
    "description": "What is wrong with the input: `detail`, or one key per field (or `non_field_errors`) with a "
    "list of messages (nested objects for nested input).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            self._add_error_responses(operation)
        return operation

    def _add_error_responses(self, operation: dict) -> None:
        responses = operation["responses"]
        for code in self.error_codes(operation):
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, documented in responses.items():
            if code < "400":
                continue
            if "content" not in documented:
                documented["content"] = {"application/json": {"schema": self._error_component(code)}}
            if code in ("429", "503"):
                documented.setdefault("headers", dict(RETRY_AFTER))
        operation["responses"] = dict(sorted(responses.items()))

    def error_codes(self, operation: dict) -> list[str]:
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        signed_in = self._needs_signed_in_caller()
        codes = {
            "400": has_body or "query" in locations,
            "401": signed_in,
            "403": signed_in,
            "404": "path" in locations or "page" in names,
            "409": signed_in and self.method in WRITES,
            "413": has_body,
            "415": has_body,
            "429": bool(self.view.get_throttles()) or (not signed_in and self.method in WRITES),
            "503": True,
        }
        return [code for code, applies in codes.items() if applies]

    def _needs_signed_in_caller(self) -> bool:
        return not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def _error_component(self, code: str) -> dict:
        name, body = ("ValidationError", VALIDATION_ERROR_BODY) if code == "400" else ("Error", ERROR_BODY)
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=body, object=name)
        self.registry.register_on_missing(component)
        return component.ref
