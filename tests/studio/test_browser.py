"""The studio in a real browser: headless Chromium (Debian's `chromium`) driven through
Debian's `chromedriver` by selenium. It clicks through the bundled ActiveTrail example's setup
with its cassette replayed (connect, choose the group, tag, map the fields, save), checks the
state saved is the one `setup --answers` saves, uploads and runs the example's payloads, and
checks the sandbox contacts; then breaks the manifest and sees its diagnostics replace the
form. A screenshot of each step is kept (conftest.shots_dir(); the path is printed at the end
of the test run). Skipped, with the reason, when Chromium or its driver is missing, except in
CI (CI=true), where .ci/run installs both and a missing one fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime.cli import main
from manifest_runtime.state import StateFile

from .conftest import EXAMPLE, SHOTS_TAKEN, WORKFLOW, make_studio, running, shots_dir

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = [name for name, path in (("chromium", CHROMIUM), ("chromium-driver", DRIVER))
           if path is None]
CASSETTE = str(EXAMPLE / "cassette.yaml")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1500,1000")

if MISSING and os.environ.get("CI"):
    pytest.fail(f"CI must run the studio browser test, but {' and '.join(MISSING)} "
                f"{'is' if len(MISSING) == 1 else 'are'} not installed (.ci/run installs "
                "them with apt-get)", pytrace=False)
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{' and '.join(MISSING)} not installed (apt-get install chromium "
    "chromium-driver; .ci/run installs them): the page is not checked in a browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile; Selenium Manager is never
    asked for anything (the driver and the browser are given)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM is not None and DRIVER is not None
    profile = tempfile.mkdtemp(prefix="studio-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _body(driver: Any, name: str) -> str | None:
    from selenium.webdriver.common.by import By

    value: str | None = driver.find_element(By.TAG_NAME, "body").get_attribute(name)
    return value


def _wait(driver: Any, check: Callable[[Any], Any], what: str, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: _body(d, "data-busy") == "0" and check(d), message=f"waiting for {what}")


def _setup_is(kind: str) -> Callable[[Any], bool]:
    return lambda d: _body(d, "data-setup") == kind


def _shot(driver: Any, name: str) -> None:
    directory = shots_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    SHOTS_TAKEN.append(path)


def _saved(path: Path) -> dict[str, Any]:
    with StateFile(str(path)) as state:
        setup = state.load_setup(WORKFLOW)
    assert setup is not None
    return setup.as_json()


def test_click_through_setup_and_run_the_payloads(browser: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    state = tmp_path / "page.db"
    with running(make_studio(EXAMPLE / "manifest.yaml", state, "--replay", CASSETTE)) as url:
        browser.get(url + "/")
        _wait(browser, lambda d: _body(d, "data-graph") == "yes", "the graph to be drawn")
        overview = browser.find_element(By.ID, "overview")
        assert "ActiveTrail - Sync new group members" in overview.text
        assert browser.find_elements(By.CSS_SELECTOR, "#graph svg")
        _shot(browser, "01-overview-and-graph")
        browser.find_element(By.ID, "graph-zoom").click()
        assert "large" in browser.find_element(By.ID, "graph").get_attribute("class")
        _shot(browser, "01b-graph-enlarged")
        browser.find_element(By.ID, "graph-zoom").click()

        browser.find_element(By.CSS_SELECTOR, f'button.setup[data-workflow="{WORKFLOW}"]'
                             ).click()
        _wait(browser, _setup_is("credentials"), "the connect step")
        token = browser.find_element(By.ID, "cred-token")
        assert token.get_attribute("type") == "password"
        assert token.get_attribute("placeholder") == "Paste your ActiveTrail access token"
        help_text = browser.find_element(By.CSS_SELECTOR, "#setup .help strong")
        assert help_text.text == "More > Integrations > API > Apps"  # Markdown, rendered
        _shot(browser, "02-connect")
        browser.find_element(By.ID, "connect").click()

        _wait(browser, _setup_is("field"), "the group dropdown")
        group = Select(browser.find_element(By.ID, "field-group"))
        assert group.first_selected_option.text == "Select a group"  # the placeholder
        assert len(group.options) > 20
        group.select_by_visible_text("Group 7")
        _shot(browser, "03-select-group")
        browser.find_element(By.ID, "next").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "field-tag"), "the tag field")
        browser.find_element(By.ID, "field-tag").send_keys("vip")
        browser.find_element(By.ID, "next").click()

        _wait(browser, _setup_is("mapping"), "the map step")
        assert "Required targets *: Email (email)" in browser.find_element(By.ID, "setup").text
        pairs = {"email": "email", "first_name": "firstName", "last_name": "lastName",
                 "sms": "phone"}
        for source, target in pairs.items():
            Select(browser.find_element(By.ID, f"map-{source}")).select_by_value(target)
        _shot(browser, "04-map")
        browser.find_element(By.ID, "save-mapping").click()
        _wait(browser, _setup_is("saved"), "the saved setup")
        summary = browser.find_element(By.ID, "summary").text
        assert "Group: Group 7 (1007)" in summary and "SMS number (sms) -> Phone (phone)" in summary
        _shot(browser, "05-saved")

        headless = tmp_path / "headless.db"
        assert main(["setup", str(EXAMPLE / "manifest.yaml"), "--answers",
                     str(EXAMPLE / "answers.yaml"), "--replay", CASSETTE,
                     "--state", str(headless)]) == 0
        capsys.readouterr()
        assert _saved(state) == _saved(headless)

        browser.find_element(By.ID, "upload").send_keys(str(EXAMPLE / "payloads.jsonl"))
        _wait(browser, lambda d: "ada@example.com" in d.find_element(By.ID, "payloads")
              .get_attribute("value"), "the uploaded payloads")
        browser.find_element(By.ID, "run").click()
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#sandbox #contacts"),
              "the run's results and the sandbox")
        assert browser.find_element(By.ID, "run-summary").text == \
            f"{WORKFLOW}: read 3, delivered 3, failed 0"
        contacts = browser.find_element(By.ID, "contacts").text
        assert "ada@example.com" in contacts and "activetrail, vip" in contacts
        browser.execute_script("document.getElementById('run-panel').scrollIntoView()")
        _shot(browser, "06-run-and-sandbox")
        trace = browser.find_element(By.ID, "trace").text
        assert "GET https://webapi.mymarketing.co.il/api/groups" in trace

    with StateFile(str(state)) as opened:
        rows = {c["email"]: c for c in opened.sandbox().contacts.values()}
    assert sorted(rows) == ["ada@example.com", "alan@example.com", "grace@example.com"]
    assert rows["ada@example.com"]["firstName"] == "Ada"
    assert rows["grace@example.com"]["phone"] == "+15550101"
    assert rows["alan@example.com"]["tags"] == ["activetrail", "vip"]


def test_an_edited_manifest_shows_its_errors_in_place_of_the_form(browser: Any,
                                                                  tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    manifest = tmp_path / "manifest.yaml"
    shutil.copy(EXAMPLE / "manifest.yaml", manifest)
    text = manifest.read_text()
    with running(make_studio(manifest, tmp_path / "state.db", "--replay", CASSETTE)) as url:
        browser.get(url + "/")
        _wait(browser, lambda d: _body(d, "data-valid") == "yes", "the overview")
        browser.find_element(By.CSS_SELECTOR, "button.setup").click()
        _wait(browser, _setup_is("credentials"), "the connect step")
        manifest.write_text(text.replace("type: dropdown", "type: dropdwn"))
        _wait(browser, _setup_is("invalid"), "the diagnostics", timeout=15)
        shown = browser.find_element(By.CSS_SELECTOR, "#setup #diagnostics").text
        assert "type: dropdwn" in shown and "^" in shown and "manifest.yaml:" in shown
        _shot(browser, "07-edited-manifest-invalid")
        manifest.write_text(text.replace("label: Connect ActiveTrail",
                                         "label: Connect your ActiveTrail"))
        _wait(browser, lambda d: _body(d, "data-valid") == "yes" and _body(
            d, "data-setup") == "credentials", "the form again", timeout=15)
        assert "Connect your ActiveTrail" in browser.find_element(By.ID, "setup").text


def test_search_as_you_type_and_personalization_tags(browser: Any, tmp_path: Path) -> None:
    """The search box of a field with a search_term fetches its options again (the text
    goes to the API as ?q=...); a personalized textarea takes a tag at the cursor."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    root = EXAMPLE.parents[1]
    manifests = root / "tests/setup/manifests"
    with running(make_studio(manifests / "search.yaml", tmp_path / "search.db", "--replay",
                             str(manifests / "search.cassette.yaml"))) as url:
        browser.get(url + "/")
        _wait(browser, lambda d: _body(d, "data-valid") == "yes", "the overview")
        browser.find_element(By.CSS_SELECTOR, "button.setup").click()
        _wait(browser, _setup_is("credentials"), "the connect step")
        browser.find_element(By.ID, "connect").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "search-group"), "the search box")
        options = [o.text for o in Select(browser.find_element(By.ID, "field-group")).options]
        assert "Group 12" not in options  # not on the first page: found by searching
        box = browser.find_element(By.ID, "search-group")
        # the whole text at once (the cassette answers this search only; typing key by key
        # would search as soon as typing pauses)
        browser.execute_script("arguments[0].value = 'Group 12'; arguments[0].dispatchEvent("
                               "new Event('input'));", box)
        _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#setup .options")
              .get_attribute("data-search") == "Group 12", "the searched options")
        Select(browser.find_element(By.ID, "field-group")).select_by_visible_text("Group 12")
        _shot(browser, "08-search-as-you-type")
        browser.find_element(By.ID, "next").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "search-labels"), "the labels")
        browser.find_element(By.CSS_SELECTOR, "#setup label.check input[value='0']").click()
        browser.find_element(By.ID, "next").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "field-note"), "the note")
        browser.find_element(By.ID, "field-note").send_keys("hello")
        browser.find_element(By.ID, "next").click()
        _wait(browser, _setup_is("saved"), "the saved setup")
        summary = browser.find_element(By.ID, "summary").text
        assert "Group: Group 12 (1012)" in summary and "Labels: a" in summary
        trace = browser.find_element(By.ID, "trace").text
        assert "GET https://groups.example.com/api/groups?q=Group+12" in trace

    example = root / "examples/activetrail-actions"
    with running(make_studio(example / "manifest.yaml", tmp_path / "actions.db", "--replay",
                             str(example / "cassette.yaml"))) as url:
        browser.get(url + "/")
        _wait(browser, lambda d: _body(d, "data-valid") == "yes", "the overview")
        browser.find_element(By.CSS_SELECTOR,
                             'button.setup[data-workflow="activetrail-send-message"]').click()
        _wait(browser, _setup_is("credentials"), "the connect step")
        browser.find_element(By.ID, "connect").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "field-channel"), "the channel")
        Select(browser.find_element(By.ID, "field-channel")).select_by_visible_text("SMS")
        browser.find_element(By.ID, "next").click()
        for field, text in (("name", "Spring"), ("sender", "Garden")):
            _wait(browser, lambda d, f=field: d.find_elements(By.ID, f"field-{f}"), field)
            browser.find_element(By.ID, f"field-{field}").send_keys(text)
            browser.find_element(By.ID, "next").click()
        _wait(browser, lambda d: d.find_elements(By.ID, "field-message"), "the message")
        area = browser.find_element(By.ID, "field-message")
        area.send_keys("Hi ")
        Select(browser.find_element(By.CSS_SELECTOR, "select.tags")).select_by_value(
            "%FIRSTNAME%")
        area.send_keys(", your order is ready.")
        assert area.get_attribute("value") == "Hi %FIRSTNAME%, your order is ready."
        _shot(browser, "09-personalization-tags")
        browser.find_element(By.ID, "next").click()
        _wait(browser, _setup_is("saved"), "the saved setup")
        assert "Message: Hi %FIRSTNAME%, your order is ready." in \
            browser.find_element(By.ID, "summary").text
