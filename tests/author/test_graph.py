"""`manifest-runtime graph`: every bundled example drawn as text, Mermaid, JSON and an HTML
page that headless Chromium renders offline into an <svg> naming the workflows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from manifest_runtime.cli import main
from manifest_runtime.compile import load_and_compile
from manifest_runtime.graph import build, mermaid, text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/manifest.*"))
POLLING = ROOT / "tests/pipeline/polling.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _names(manifest: Path) -> list[str]:
    return [str(w["name"]) for w in load_and_compile(str(manifest)).data["workflows"]]


@pytest.mark.parametrize("manifest", [*EXAMPLES, POLLING], ids=lambda p: p.parent.name)
def test_every_example_is_drawn_in_every_format(manifest: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "mermaid", "json"):
        assert main(["graph", str(manifest), "--format", fmt]) == 0
        out = capsys.readouterr().out
        for name in _names(manifest):
            assert name in out
    drawn = json.loads(out)
    assert drawn["ok"] and [w["name"] for w in drawn["workflows"]] == _names(manifest)
    for w in drawn["workflows"]:
        assert [p["name"] for p in w["data_pipeline"]] == ["source", "transform", "target"]
        assert w["setup"]


def test_text_outline_of_the_activetrail_example() -> None:
    compiled = load_and_compile(str(ROOT / "examples/activetrail-contacts/manifest.yaml"))
    outline = text(build(compiled.data, "m"))
    assert "  data_intake member_added (webhook)\n    create = !http POST /webhooks -> " \
        "!jq {webhook_id: .body.id} -> !save to workflow\n" in outline
    assert "      field group: Group (dropdown) = !http GET /groups (paged) -> !jq" in outline
    assert "      field tag: Tag new contacts with (text, optional)\n" in outline
    assert "    transform: the mapping saved by setup\n" in outline


def test_polling_lifecycle_and_schedule_are_drawn() -> None:
    compiled = load_and_compile(str(POLLING))
    outline = text(build(compiled.data, "m"))
    assert "  data_intake new_leads (polling)\n    initial_setup = !jq" in outline
    assert "    request = !http GET /leads?page=${polling_state.page} -> !jq" in outline
    assert "    schedule: Schedule (every 1800 s)" in outline
    source = mermaid(build(compiled.data, "m"))
    assert '-.->|"results"|' in source


def test_mermaid_escapes_quotes_and_angle_brackets() -> None:
    data = {"workflows": [{"name": "w", "type": "generic", "setup": {}, "data_pipeline": {
        "source": {"!jq": '.a | select(.b > 1) | "x#y"'}, "target": {"!jq": "."}}}]}
    source = mermaid(build(data, "m"))
    assert '#quot;x#35;y#quot;' in source and "#gt; 1" in source


def test_graph_workflow_filter_and_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = str(ROOT / "examples/twilio-sms/manifest.json")
    assert main(["graph", manifest, "--workflow", "twilio-send-a-message"]) == 0
    capsys.readouterr()
    assert main(["graph", manifest, "--workflow", "twilio-send-a-mesage"]) == 2
    assert "did you mean 'twilio-send-a-message'" in capsys.readouterr().err


def test_html_page_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "g.html"
    assert main(["graph", str(EXAMPLES[0]), "--format", "html", "-o", str(out)]) == 0
    page = out.read_text()
    assert "default-src 'none'" in page  # the page may not fetch anything
    assert "http://" not in page.split("<script>")[0].replace("http-equiv", "")
    assert '<pre class="mermaid" id="diagram">' in page and "flowchart TB" in page


def _chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                    "chromium; .ci/run installs it): the HTML rendering is not checked")
@pytest.mark.parametrize("manifest", EXAMPLES, ids=lambda p: p.parent.name)
def test_html_renders_in_headless_chromium(manifest: Path, tmp_path: Path) -> None:
    """The page draws the diagram with no network: the DOM after its scripts ran holds an
    <svg> with every workflow's name; a screenshot is kept as an artifact."""
    page = tmp_path / "graph.html"
    assert main(["graph", str(manifest), "--format", "html", "-o", str(page)]) == 0
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-rendered="yes"' in dom.stdout, "mermaid did not finish rendering"
    svg = dom.stdout.split("<svg", 1)[1].split("</svg>", 1)[0]
    for name in _names(manifest):
        assert name in svg
    assert svg.count("<g class=\"node") >= 8  # a drawn flowchart, not an empty box
    artifacts = Path(os.environ.get("MANIFEST_RUNTIME_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / f"graph-{manifest.parent.name}.png"
    done = _chromium(tmp_path, page, "--window-size=1400,1800", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_secret_looking_arguments_are_not_drawn() -> None:
    data = {"workflows": [{"name": "w", "type": "generic", "setup": {}, "data_pipeline": {
        "source": {"!sha": {"algorithm": "sha256", "secret": "hunter2"}},
        "target": {"!jq": "."}}}]}
    for drawn in (text(build(data, "m")), mermaid(build(data, "m"))):
        assert "hunter2" not in drawn and '"secret": "***"' in drawn.replace("#quot;", '"')
