"""The evaluation boundary: located errors, foreign exceptions, tracing, run_at, services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, get_args, get_type_hints

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from evalcase import compile_raw

from manifest_runtime.commands import COMMANDS
from manifest_runtime.commands.http import HttpNode
from manifest_runtime.compile import load_and_compile
from manifest_runtime.errors import EvaluationError
from manifest_runtime.http.simple import SimpleHttpService
from manifest_runtime.http.types import HttpRequest
from manifest_runtime.model import Command, HttpDecision, HttpOutput
from manifest_runtime.paths import Path as ManifestPath
from manifest_runtime.runtime import Env, EvalContext, TraceEvent, evaluate, run_at
from manifest_runtime.state import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "activetrail-contacts" / \
    "manifest.yaml"


def test_every_command_has_a_run_function() -> None:
    assert all(spec.run is not None for spec in COMMANDS.values())


def test_expansion_error_keeps_the_innermost_location() -> None:
    node, _ = compile_raw({"!pipe": [{"!jq": "."}, {"!jq": "${custom_data.x.value}"}]})
    with pytest.raises(EvaluationError) as info:
        evaluate(node, 1, EvalContext.create(custom_data={}))
    d = info.value.diagnostic
    assert d.code == "missing-reference"
    assert d.path == ("case", "!pipe", 1, "!jq")
    assert d.span is not None and d.source_text == "${custom_data.x.value}"


def test_foreign_exception_becomes_a_located_evaluation_error() -> None:
    class Broken:
        def send(self, request: HttpRequest) -> Any:
            raise KeyError("oops")

    node, _ = compile_raw({"!http": {"url": "https://x.test/"}})
    with pytest.raises(EvaluationError) as info:
        evaluate(node, None, EvalContext.create(http=Broken()))
    d = info.value.diagnostic
    assert d.code == "runtime-error" and "KeyError" in d.message
    assert d.path == ("case",)


def test_pipe_step_error_input_goes_through_redact() -> None:
    node, _ = compile_raw({"!pipe": [{"!jq": "{token: \"s3cret\"}"}, {"!jq": ".token.x"}]})
    ctx = EvalContext.create(redact=lambda text: text.replace("s3cret", "***"))
    with pytest.raises(EvaluationError) as info:
        evaluate(node, None, ctx)
    (note,) = info.value.diagnostic.notes
    assert "s3cret" not in note and "***" in note


def test_trace_reports_each_step_with_expanded_arguments() -> None:
    events: list[TraceEvent] = []
    node, _ = compile_raw({"!pipe": [{"!jq": ". + ${polling_state.n}"}, {"!print_c": "v"}]})
    out = evaluate(node, 1, EvalContext.create(polling_state={"n": 2}, trace=events.append))
    assert out == 3
    assert [(e.path, e.command, e.input, e.output) for e in events] == [
        (("case", "!pipe", 0), "!jq", 1, 3),
        (("case", "!pipe", 1), "!print_c", 3, 3),
        (("case",), "!pipe", 1, 3),
    ]
    assert events[0].args == {"variables": {"${polling_state.n}": 2}}
    assert events[1].args == {"message": "v"}


def test_trace_records_the_error() -> None:
    events: list[TraceEvent] = []
    node, _ = compile_raw({"!error": "stop"})
    with pytest.raises(EvaluationError):
        evaluate(node, None, EvalContext.create(trace=events.append))
    assert events[0].error == "stop"


def test_http_output_override_wins_over_the_compiled_mode() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"a": 1})

    http = SimpleHttpService(httpx.Client(transport=httpx.MockTransport(handler)))
    node, _ = compile_raw({"!http": {"url": "https://x.test/"}})
    assert evaluate(node, None, EvalContext.create(http=http))["body"] == {"a": 1}
    assert evaluate(node, None, EvalContext.create(http=http, http_output="body")) == {"a": 1}


def test_http_output_is_typed_with_the_model_literal() -> None:
    hints = get_type_hints(HttpDecision, localns={"Path": ManifestPath})
    assert hints["output"] == HttpOutput
    assert get_type_hints(HttpNode.output.fget)["return"] == HttpOutput


@pytest.mark.parametrize(("consumer", "mode"), [
    ("{id: .body.id}", "wrapped"), ("{id: .id}", "body"), (None, "wrapped")])
def test_pipe_decides_an_http_output_mode_of_the_literal(consumer: str | None, mode: str
                                                          ) -> None:
    steps: list[Any] = [{"!http": {"url": "https://x.test/"}}]
    if consumer is not None:
        steps.append({"!jq": consumer})
    pipe, errors = compile_raw({"!pipe": steps})
    assert not errors and isinstance(pipe, Command)
    http = pipe.node.steps[0].node
    assert isinstance(http, HttpNode)
    assert http.output == mode and http.output in get_args(HttpOutput)


def test_simple_http_service_translates_connect_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    service = SimpleHttpService(httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(EvaluationError) as info:
        service.send(HttpRequest("GET", "https://x.test/a", where=("p",)))
    assert info.value.diagnostic.code == "http-connect"
    assert info.value.diagnostic.path == ("p",)


def test_simple_http_service_merges_params_and_base_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="plain", headers={"X-Thing": "1"})

    service = SimpleHttpService(httpx.Client(transport=httpx.MockTransport(handler)),
                                base_headers={"User-Agent": "mr"})
    response = service.send(HttpRequest("GET", "https://x.test/a?b=1", params={"c": 2},
                                        headers={"Accept": "text/plain"}))
    assert (response.status, response.body, response.headers["x-thing"]) == (200, "plain", "1")
    assert str(seen[0].url) == "https://x.test/a?b=1&c=2"
    assert seen[0].headers["user-agent"] == "mr" and seen[0].headers["accept"] == "text/plain"


def test_run_at_runs_pipe_steps_and_reports_nearest_pointers() -> None:
    compiled = load_and_compile(str(EXAMPLE))
    ctx = EvalContext.create(custom_data={"group": {"value": "5", "display": "VIP"}})
    assert run_at(compiled, "/workflows/0/setup/select/describe_selection/display", None,
                  ctx) == "VIP"
    step = "/workflows/0/setup/connect/describe_connection/!pipe/1"
    assert run_at(compiled, step, {"body": {"id": 7, "company_name": "Acme"}}, ctx) == \
        {"account_id": "7", "description": "Acme"}
    with pytest.raises(EvaluationError) as info:
        run_at(compiled, "/workflows/0/setup/select/describe_selectio/display", None, ctx)
    assert info.value.diagnostic.code == "no-such-node"
    assert "/workflows/0/setup/select/describe_selection/display" in \
        (info.value.diagnostic.hint or "")


def test_sqlite_store_merges_and_persists(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    path = str(tmp_path / "state" / "state.db")
    store = SqliteStore(path)
    store.merge("workflow", {"a": 1, "b": {"x": [1]}})
    store.merge("workflow", {"a": 2})
    store.close()
    again = SqliteStore(path)
    assert again.get_all("workflow") == {"a": 2, "b": {"x": [1]}}
    assert again.get_all("connection") == {}
    again.close()


def test_save_through_a_sqlite_store_is_readable_in_the_same_run(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"))
    node, _ = compile_raw({"!pipe": [{"!save": {"scope": "workflow"}},
                                     {"!jq": "${data.workflow.id}"}]})
    assert evaluate(node, {"id": 5}, EvalContext.create(env=Env(store=store))) == 5
    store.close()


@pytest.mark.parametrize("algorithm", ["shake_128", "shake_256"])
def test_shake_hmac_is_32_bytes_and_keyed(algorithm: str) -> None:
    def digest(secret: str | None) -> str:
        arg: dict[str, Any] = {"algorithm": algorithm}
        if secret:
            arg["secret"] = secret
        node, _ = compile_raw({"!sha": arg})
        out = evaluate(node, {"value_to_encrypt": "hello"}, EvalContext.create())
        return str(out["hash"])

    keyed, other, plain = digest("k1"), digest("k2"), digest(None)
    assert len(keyed) == 64 and len(plain) == 64
    assert len({keyed, other, plain}) == 3
    assert digest("k1") == keyed


def test_outside_a_pipe_piped_content_0_is_the_input(tmp_path: Path) -> None:
    """validate allows ${piped_content.0} outside a pipe; running it must agree."""
    file = tmp_path / "m.yaml"
    file.write_text("$version: '2'\nworkflows: []\nx: {'!jq': '${piped_content.0.email}'}\n")
    compiled = load_and_compile(str(file))
    assert not [d for d in compiled.diagnostics if d.code == "piped-content-reference"]
    assert run_at(compiled, "/x", {"email": "a@b"}, EvalContext.create()) == "a@b"
