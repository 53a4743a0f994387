"""Semantic checks over the raw manifest: names, references and per-kind requirements.

Each check is a small function reporting through the Compiler with a stable code. They run
after the schema, on possibly malformed data, so every access is type-checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..errors import choices_hint, did_you_mean
from ..paths import Path
from .compiler import Compiler


def run_checks(data: dict[str, Any], c: Compiler) -> None:
    for check in CHECKS:
        check(data, c)


def _items(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def dig(raw: Any, *keys: str) -> Any:
    """raw[k1][k2]... or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(raw, dict):
            return None
        raw = raw.get(key)
    return raw


def name_of(raw: Any, key: str = "name") -> str | None:
    """raw[key] when raw is an object and that is a string (a name or a reference to one);
    None otherwise: a malformed name is the schema's `wrong-type`, not a crash here."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _unique(c: Compiler, entries: list[tuple[Path, Any]], what: str) -> None:
    seen: dict[Any, Path] = {}
    for path, value in entries:
        if not isinstance(value, str):
            continue
        if value in seen:
            c.report("duplicate-name", f"{what} {value!r} is used twice", path,
                     hint=f"first used at {'/' + '/'.join(map(str, seen[value]))}; "
                     f"{what}s must be unique")
        else:
            seen[value] = path


def check_unique_names(data: dict[str, Any], c: Compiler) -> None:
    _unique(c, [(("workflows", i, "name"), w.get("name")) for i, w in _items(data, "workflows")],
            "workflow name")
    _unique(c, [(("data_intake", i, "name"), d.get("name"))
                for i, d in _items(data, "data_intake")], "data_intake name")
    _unique(c, [(("objects", i, "name"), o.get("name")) for i, o in _items(data, "objects")],
            "object name")
    for i, w in _items(data, "workflows"):
        fields = dig(w, "setup", "select", "form_fields")
        if isinstance(fields, list):
            base = ("workflows", i, "setup", "select", "form_fields")
            _unique(c, [((*base, j, "id"), f.get("id")) for j, f in enumerate(fields)
                        if isinstance(f, dict)], "form field id")


def declares(obj: dict[str, Any], key: str) -> bool:
    """Does `obj` have `key`, or an unknown key that looks like it (`describe_selecton`)?
    A misspelt key is the schema's one error; what depends on the key takes it as there."""
    return key in obj or any(did_you_mean(k, [key]) for k in obj if k != "_comment")


def misspelt_section(data: dict[str, Any], section: str) -> bool:
    """Is `section` absent from the manifest's root while an unknown root key looks like it
    (`data_intakes`, `auths`)? Then what refers to it cannot be judged: the schema's
    unknown-key is the one error."""
    if section in data:
        return False
    unknown = [k for k in data if k not in ROOT_KEYS]
    return any(did_you_mean(k, [section]) for k in unknown)


ROOT_KEYS = ("$version", "$schema", "auth", "api", "data_intake", "workflows", "objects",
             "_comment")


def check_references(data: dict[str, Any], c: Compiler) -> None:
    raw_auth = data.get("auth")
    auths: dict[str, Any] = raw_auth if isinstance(raw_auth, dict) else {}
    # a missing or malformed auth section is the schema's error; references to it wait
    auths_known = isinstance(raw_auth, dict)
    intakes = {name: d for _, d in _items(data, "data_intake")
               if (name := name_of(d)) is not None}
    # a name that is not a string is the schema's error; what refers to it cannot be judged
    names_known = all(isinstance(d.get("name"), str) for _, d in _items(data, "data_intake")) \
        and not isinstance(data.get("data_intake"), dict | str | int | float | bool) \
        and not misspelt_section(data, "data_intake")
    for i, w in _items(data, "workflows"):
        ref = w.get("auth")
        if isinstance(ref, str) and ref not in auths and auths_known:
            c.report("unknown-reference", f"workflow auth {ref!r} is not defined in 'auth'",
                     ("workflows", i, "auth"), hint=choices_hint(ref, auths, "auth names"))
        for key in ("data_intake", "historical_data_intake"):
            ref = w.get(key)
            if isinstance(ref, str) and ref not in intakes and names_known:
                c.report("unknown-reference", f"{key} {ref!r} is not a data_intake name",
                         ("workflows", i, key),
                         hint=choices_hint(ref, intakes, "data_intake names"))
        hist = intakes.get(name_of(w, "historical_data_intake") or "")
        if isinstance(hist, dict) and hist.get("type") != "polling":
            c.report("historical-not-polling",
                     f"historical_data_intake {hist.get('name')!r} must be a polling intake",
                     ("workflows", i, "historical_data_intake"),
                     hint="the historical import runs a one-time poll")


def check_inbound(data: dict[str, Any], c: Compiler) -> None:
    for i, w in _items(data, "workflows"):
        if w.get("type") != "generic":
            continue
        path: Path = ("workflows", i)
        if not w.get("data_intake"):
            c.report("inbound-needs-intake", "an inbound (generic) workflow needs a data_intake",
                     path, hint="name the webhook or polling data_intake that feeds it")
        raw_setup = w.get("setup")
        if not isinstance(raw_setup, dict):
            continue  # no setup, or not an object: the schema's one error
        setup: dict[str, Any] = raw_setup or {}
        select = setup.get("select")
        if select is not None and not isinstance(select, dict):
            pass  # a select step that is not an object: the schema's error
        elif select is None and declares(setup, "select"):
            pass  # misspelt: the schema's unknown-key
        elif not isinstance(select, dict):
            c.report("inbound-needs-select", "an inbound workflow needs a select step",
                     (*path, "setup"), hint="add setup.select with form_fields and "
                     "describe_selection")
        elif not declares(select, "describe_selection"):
            c.report("inbound-needs-describe-selection",
                     "an inbound workflow's select step needs describe_selection",
                     (*path, "setup", "select"),
                     hint="describe_selection {resource_id, display} names what was selected")
        if not declares(setup, "map"):
            c.report("inbound-needs-map", "an inbound workflow needs a map step",
                     (*path, "setup"), hint="map describes how payload fields become contact "
                     "fields")


def check_polling_schedule(data: dict[str, Any], c: Compiler) -> None:
    if isinstance(data.get("objects"), list) and data["objects"]:
        return  # custom-object apps take frequency/import_option from the intake
    polling = {name_of(d) for _, d in _items(data, "data_intake") if d.get("type") == "polling"}
    for i, w in _items(data, "workflows"):
        polls = name_of(w, "data_intake") in polling - {None}
        setup = w.get("setup")
        if polls and (setup is None or isinstance(setup, dict)) and \
                (setup or {}).get("schedule") is None:
            c.report("polling-needs-schedule",
                     f"workflow {w.get('name')!r} polls ({w.get('data_intake')!r}) but has no "
                     "schedule step", ("workflows", i, "setup"),
                     hint="add setup.schedule {label, description, import_options, frequency}")


def check_form_fields(data: dict[str, Any], c: Compiler) -> None:
    for i, w in _items(data, "workflows"):
        fields = dig(w, "setup", "select", "form_fields")
        if not isinstance(fields, list):
            continue
        for j, f in enumerate(fields):
            if not isinstance(f, dict):
                continue
            path: Path = ("workflows", i, "setup", "select", "form_fields", j)
            kind = f.get("type")
            if kind in ("dropdown", "multiselect") and "options" not in f:
                c.report("missing-options", f"a {kind} field needs options", path,
                         hint="options: a command that outputs [{display, value}], or a static "
                         "list")
            if f.get("personalize") not in (None, False) and kind != "textarea":
                c.report("personalize-not-textarea",
                         f"personalize only works on textarea fields (this is {kind!r})",
                         (*path, "personalize"), hint="remove personalize or make it a textarea")


def check_published_omissions(data: dict[str, Any], c: Compiler) -> None:
    """Keys the docs require but published configs omit: accepted, with a warning."""
    for i, w in _items(data, "workflows"):
        connect = dig(w, "setup", "connect")
        if isinstance(connect, dict) and "describe_connection" not in connect:
            c.report("missing-describe-connection",
                     "connect has no describe_connection; the connection gets no account_id",
                     ("workflows", i, "setup", "connect"), severity="warning",
                     hint="add describe_connection: a command that outputs {account_id, "
                     "description}")
        mapping = dig(w, "setup", "map")
        if isinstance(mapping, dict) and "describe_target" not in mapping:
            c.report("missing-describe-target", "map has no describe_target",
                     ("workflows", i, "setup", "map"), severity="warning",
                     hint="add describe_target {label, options} for the target side's fields")
    for i, d in _items(data, "data_intake"):
        if d.get("type") == "webhook" and "delete" not in d:
            c.report("webhook-without-delete",
                     f"webhook intake {d.get('name')!r} has no delete command: the registration "
                     "would never be removed", ("data_intake", i), severity="warning",
                     hint="add delete: an !http DELETE of the saved webhook id")
        if d.get("type") == "webhook" and d.get("scope") == "application" and \
                "account_id" not in d:
            c.report("application-scope-needs-account-id",
                     "an application-scope webhook needs account_id to route payloads",
                     ("data_intake", i), hint="account_id: a command reading the account from "
                     "the payload")


def check_pagination(data: dict[str, Any], c: Compiler) -> None:
    """`"pagination": true` follows api.pagination; without a known style only one page
    would be fetched."""
    if dig(data, "api", "pagination") is not None or not c.paginated:
        return  # declared: a style that is missing or unknown is the schema's error
    from ..http.pagination import STYLES  # only now: the HTTP client's modules (start-up)

    for path in c.paginated:
        c.report("pagination-without-style",
                 "!http has pagination: true, but api.pagination declares no style "
                 f"({', '.join(STYLES)}): only the first page would be fetched",
                 (*path, "!http", "pagination"), severity="warning",
                 hint="add api.pagination: {style: {type: page, page_number: {param: "
                 "page, value: 1}, page_size: {param: per_page, value: 100}}, parser: "
                 "{...}}, or remove pagination: true")


def check_unused_intakes(data: dict[str, Any], c: Compiler) -> None:
    if not isinstance(data.get("workflows"), list):
        return  # no workflows to read (the schema's error): nothing can be said unused
    used = set()
    for _, w in _items(data, "workflows"):
        for key in ("data_intake", "historical_data_intake"):
            if w.get(key) is not None and not isinstance(w[key], str):
                return  # a malformed reference (the schema's error) may mean any intake
            used.add(w.get(key))
    for i, d in _items(data, "data_intake"):
        if isinstance(d.get("name"), str) and d["name"] not in used:
            c.report("unused-intake", f"data_intake {d.get('name')!r} is used by no workflow",
                     ("data_intake", i, "name"), severity="warning",
                     hint="reference it from a workflow's data_intake or historical_data_intake")


CHECKS: tuple[Callable[[dict[str, Any], Compiler], None], ...] = (
    check_unique_names,
    check_references,
    check_inbound,
    check_polling_schedule,
    check_form_fields,
    check_published_omissions,
    check_unused_intakes,
    check_pagination,
)
