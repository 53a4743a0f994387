"""ActiveCampaign's v3 error answers, one way for both accounts.

The v3 API rejects a request with HTTP 4xx and a body
`{"errors": [{"title", "detail", "code", "source": {"pointer"}}]}` (422 for a record that fails
validation). The sandbox answers what it refuses in that same shape (`api_errors`), and both
accounts turn such an answer into the same `EvaluationError` (`rejection`), so a record the
real account would refuse fails the same way in the sandbox, with the same message.
"""

from __future__ import annotations

from typing import Any

from ..errors import Diagnostic, EvaluationError


class ApiRejected(EvaluationError):
    """An answer the API gives as an error (status + body), raised before anything is
    written. `api()` returns it as the HTTP answer; the resource methods raise it. (Built
    from a Diagnostic alone, as the evaluator does to locate it, it answers 422 with its
    message.)"""

    def __init__(self, diagnostic: Diagnostic, status: int = 422, body: Any = None) -> None:
        super().__init__(diagnostic)
        self.status = status
        self.body = body if body is not None else api_errors(
            api_error(diagnostic.message, diagnostic.code))


def api_rejected(status: int, body: Any, what: str, hint: str | None = None,
                 code: str = "ac-rejected") -> ApiRejected:
    return ApiRejected(rejection_diagnostic(status, body, what, hint, code), status, body)


def api_error(title: str, code: str, pointer: str | None = None, detail: str = ""
              ) -> dict[str, Any]:
    """One item of a v3 `errors` list."""
    item: dict[str, Any] = {"title": title, "detail": detail, "code": code}
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    return item


def api_errors(*items: dict[str, Any]) -> dict[str, Any]:
    return {"errors": list(items)}


def error_text(body: Any) -> str:
    """The human part of an error body: each error's title (and detail), or `message`."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors:
                if not isinstance(item, dict):
                    parts.append(str(item))
                    continue
                text = str(item.get("title") or item.get("code") or "error")
                if item.get("detail"):
                    text += f" ({item['detail']})"
                parts.append(text)
            return "; ".join(parts)
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= 300 else text[:297] + "..."


def rejection_diagnostic(status: int, body: Any, what: str, hint: str | None = None,
                         code: str = "ac-rejected") -> Diagnostic:
    """`what` was refused: e.g. "ActiveCampaign refused the contact (HTTP 422): Contact Email
    Address is not valid."."""
    return Diagnostic(code=code, message=f"ActiveCampaign refused {what} (HTTP {status}): "
                      f"{error_text(body)}", hint=hint or _hint(status))


def rejection(status: int, body: Any, what: str, hint: str | None = None) -> EvaluationError:
    return EvaluationError(rejection_diagnostic(status, body, what, hint))


def _hint(status: int) -> str:
    if status in (401, 403):
        return ("the API token was refused: check --ac-token (or MANIFEST_RUNTIME_AC_TOKEN) "
                "and --ac-url, the account's Settings > Developer page shows both")
    if status == 404:
        return "check --ac-url: it is the account's API URL, e.g. https://NAME.api-us1.com"
    if status == 429 or status >= 500:
        return "ActiveCampaign kept failing after the retries; --trace shows each attempt"
    return "check the mapped values against the account's fields; --trace shows the request"


# The answers the sandbox gives where the v3 API refuses a record (same titles and codes).
EMAIL_INVALID = "Contact Email Address is not valid."
EMAIL_HINT = "map a source field to the ActiveCampaign Email field"


def contact_email_error(email: Any) -> ApiRejected:
    title = EMAIL_INVALID if email not in (None, "") else "Email address is required."
    code = "email_invalid" if email not in (None, "") else "field_missing"
    return api_rejected(422, api_errors(api_error(title, code, "/data/attributes/email")),
                        "the contact", EMAIL_HINT, code="contact-email")
