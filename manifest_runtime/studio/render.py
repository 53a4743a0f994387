"""HTML fragments of the page, computed on the server: each setup question as App Studio
shows it (labels, placeholders, Markdown help texts, secret inputs, dropdowns, multiselects,
search boxes, personalization tags, the map table with required markers and grouped targets,
the schedule), failures, the saved setup, run results, the sandbox and the trace. Every text
from the manifest, an API or a payload is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from ..activecampaign.listing import cell
from ..setup.model import guess_target
from .bridge import Finished, Options, Question
from .markdown import markdown

if TYPE_CHECKING:
    from ..errors import Diagnostic
    from ..setup.model import (
        Choice,
        CredentialsRequest,
        FormField,
        MapOption,
        MapRequest,
        ScheduleRequest,
    )
    from .trace import Entry

PERSONALIZATION = ("%FIRSTNAME%", "%LASTNAME%", "%EMAIL%", "%PHONE%")


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def _help(text: str | None) -> str:
    return f'<div class="help">{markdown(text)}</div>' if text else ""


def diagnostic(d: Diagnostic) -> str:
    """A diagnostic as `validate` prints it (location, source line with its caret, hint)."""
    from ..report import render_one

    return f'<pre class="diagnostic" data-code="{e(d.code)}">{e(render_one(d))}</pre>'


def diagnostics(items: Sequence[Diagnostic], file: str) -> str:
    errors = [d for d in items if d.severity == "error"]
    body = "".join(diagnostic(d) for d in errors)
    return (f'<section id="diagnostics" class="invalid"><h2>{e(file)} is invalid: '
            f'{len(errors)} error{"s" if len(errors) != 1 else ""}</h2>'
            '<p>Fix the manifest and save it: this page re-validates it and comes back.</p>'
            f"{body}</section>")


# -- setup questions ---------------------------------------------------------------------------


def event(ev: Question | Finished | Options, context: dict[str, Any]) -> str:
    if isinstance(ev, Options):
        return options_list(ev.field, ev.choices, ev.text)
    if isinstance(ev, Finished):
        return finished(ev, context)
    header = ""
    if ev.step is not None:
        header = (f'<h3 class="step" data-step="{e(ev.step.name)}">'
                  f'{e(ev.step.label or ev.step.name.capitalize())}</h3>{_help(ev.step.text)}')
    error = ""
    if ev.error is not None:
        d = ev.error
        error = (f'<div class="refused" data-code="{e(d.code)}">✗ {e(d.message)}'
                 + (f'<br><span class="hint">hint: {e(d.hint)}</span>' if d.hint else "")
                 + "</div>")
    body = {"credentials": _credentials, "field": _field, "mapping": _mapping,
            "schedule": _schedule, "failure": _failure}[ev.kind](ev, context)
    answered = context.get("answered_html", "") if ev.kind == "field" else ""
    return (f'<div class="question" data-kind="{e(ev.kind)}">{header}{answered}{error}'
            f"{body}</div>")


def _credentials(ev: Question, context: dict[str, Any]) -> str:
    request: CredentialsRequest = ev.request
    rows = []
    base_url = str(context.get("base_url") or "")
    for f in request.fields:
        kind = "password" if f.secret else "text"
        note = ""
        if request.replaying and f.name != "subdomain":
            note = '<span class="note">not needed: answered from the cassette (--replay)</span>'
        elif f.given:
            note = '<span class="note">given by --credentials / MANIFEST_RUNTIME_*; type to ' \
                'replace</span>'
        required = " required" if f.required and not f.given and not (
            request.replaying and f.name != "subdomain") else ""
        control = (f'<input type="{kind}" name="{e(f.name)}" id="cred-{e(f.name)}" '
                   f'placeholder="{e(f.placeholder or "")}" autocomplete="off"{required}>')
        if f.name == "subdomain" and "${subdomain}" in base_url:  # as App Studio shows it
            before, after = base_url.split("${subdomain}", 1)
            control = (f'<span class="wrap"><span class="affix">{e(before)}</span>{control}'
                       f'<span class="affix">{e(after)}</span></span>')
        rows.append(f'<div class="row"><label for="cred-{e(f.name)}">{e(f.label)}'
                    f'{" *" if required else ""}</label>{control}{note}{_help(f.help_text)}'
                    "</div>")
    retry = '<p class="note">Enter the credentials again.</p>' if request.retry else ""
    return (f'<form class="answer" data-kind="credentials">{retry}{"".join(rows)}'
            f'<p class="auth">auth {e(request.auth_name)} ({e(request.auth_type)})</p>'
            '<button type="submit" id="connect">Connect</button></form>')


def options_list(field: FormField, choices: Sequence[Choice], text: str) -> str:
    """The options of a dropdown (a <select>) or a multiselect (checkboxes)."""
    if field.type == "multiselect":
        items = "".join(
            f'<label class="check"><input type="checkbox" name="pick" value="{i}">'
            f'{e(c.display)}</label>' for i, c in enumerate(choices))
        body = items or '<p class="note">no options</p>'
        return (f'<div class="options" data-field="{e(field.id)}" data-search="{e(text)}">'
                f"{body}</div>")
    placeholder = field.placeholder or ("Select..." if choices else "no options")
    items = f'<option value="">{e(placeholder)}</option>' + "".join(
        f'<option value="{i}">{e(c.display)}</option>' for i, c in enumerate(choices))
    return (f'<div class="options" data-field="{e(field.id)}" data-search="{e(text)}">'
            f'<select name="pick" id="field-{e(field.id)}">{items}</select></div>')


def _field(ev: Question, context: dict[str, Any]) -> str:
    f: FormField = ev.request
    label = (f'<label for="field-{e(f.id)}">{e(f.label)}{" *" if f.required else ""}'
             f'<span class="type">{e(f.type)}</span></label>')
    if ev.choices is not None:
        search = ""
        if ev.searchable:
            search = (f'<input type="search" class="search" id="search-{e(f.id)}" '
                      f'placeholder="Type to search ({e(f.search_param or "")}=...)" '
                      'autocomplete="off">')
        control = search + options_list(f, ev.choices, "")
    elif f.type == "textarea":
        tags = ""
        personalize = context.get("personalize")
        if personalize:
            options = "".join(f'<option value="{e(t)}">{e(t)}</option>'
                              for t in context.get("tags", PERSONALIZATION))
            tags = (f'<div class="personalize">Personalize ({e(personalize)}): '
                    f'<select class="tags" data-for="field-{e(f.id)}"><option value="">'
                    f"Insert a tag...</option>{options}</select></div>")
        control = (f'<textarea name="value" id="field-{e(f.id)}" rows="5" '
                   f'placeholder="{e(f.placeholder or "")}"></textarea>{tags}')
    else:
        control = (f'<input type="text" name="value" id="field-{e(f.id)}" '
                   f'placeholder="{e(f.placeholder or "")}" autocomplete="off">')
    button = "Next" if context.get("more_fields") else "Continue"
    return (f'<form class="answer" data-kind="field" data-type="{e(f.type)}" '
            f'data-field="{e(f.id)}"><div class="row">{label}{control}{_help(f.help_text)}'
            f'</div><button type="submit" id="next">{button}</button></form>')


def answered(fields: Sequence[tuple[str, str]]) -> str:
    """The form fields answered before the current one (label, shown value)."""
    if not fields:
        return ""
    rows = "".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in fields)
    return f'<table class="answered">{rows}</table>'


def _target_select(source: MapOption, request: MapRequest, guess: str | None) -> str:
    assert request.targets is not None
    required = {t.key for t in request.required}
    groups: dict[str | None, list[MapOption]] = {}
    for t in request.targets:
        groups.setdefault(t.group, []).append(t)

    def option(t: MapOption) -> str:
        mark = " *" if t.key in required or (t.required and t.group) else ""
        chosen = " selected" if t.key == guess else ""
        return f'<option value="{e(t.key)}"{chosen}>{e(t.title)} ({e(t.id)}){mark}</option>'

    items = ['<option value="">(not mapped)</option>']
    for group, options in groups.items():
        inner = "".join(option(t) for t in options)
        items.append(inner if group is None else f'<optgroup label="{e(group)}">{inner}</optgroup>')
    return (f'<select name="{e(source.key)}" id="map-{e(source.key)}" class="target">'
            f'{"".join(items)}</select>')


def _mapping(ev: Question, context: dict[str, Any]) -> str:
    request: MapRequest = ev.request
    rows = []
    for source in request.sources or ():
        if request.targets is None:
            control = (f'<input type="text" name="{e(source.key)}" id="map-{e(source.key)}" '
                       'placeholder="target field id">')
        else:
            control = _target_select(source, request, _key(guess_target(source, request.targets)))
        mark = " *" if source.required else ""
        rows.append(f'<tr><td class="source">{e(source.title)}{mark} <code>{e(source.key)}'
                    f"</code></td><td>→</td><td>{control}</td></tr>")
    if request.sources is None:
        rows.append('<tr><td colspan="3"><textarea name="$pairs" rows="4" placeholder="'
                    'source_id: target_id, one a line"></textarea></td></tr>')
    required = ""
    if request.required:
        names = ", ".join(f"{t.title} ({t.key})" for t in request.required)
        required = f'<p class="required">Required targets *: {e(names)}</p>'
    count = len(request.targets or ())
    return (f'<form class="answer" data-kind="mapping">{required}'
            f'<table class="map"><thead><tr><th>{e(request.source_label)}</th><th></th>'
            f"<th>{e(request.target_label)} ({count} fields)</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table>'
            '<button type="submit" id="save-mapping">Continue</button></form>')


def _schedule(ev: Question, context: dict[str, Any]) -> str:
    request: ScheduleRequest = ev.request
    options = "".join(
        f'<label class="check"><input type="radio" name="import_option" value="{e(o.type)}"'
        f'{" checked" if i == 0 else ""}>{e(o.label)} ({e(o.type)})</label>'
        for i, o in enumerate(request.import_options))
    every = f"<p>Polls every {e(request.frequency)} s.</p>" if request.frequency else ""
    return (f'<form class="answer" data-kind="schedule">{_help(request.description)}{every}'
            f'{options}<button type="submit" id="save-schedule">Continue</button></form>')


def _failure(ev: Question, context: dict[str, Any]) -> str:
    buttons = "".join(f'<button type="button" class="action" data-action="{e(a.name)}">'
                      f"{e(a.label)}</button>" for a in ev.actions)
    return (f'<div class="failure"><p>A command of the manifest failed:</p>'
            f"{diagnostic(ev.request)}<div class=\"actions\">{buttons}</div></div>")


def finished(ev: Finished, context: dict[str, Any]) -> str:
    if ev.cancelled:
        return ('<div class="question done" data-kind="cancelled"><p class="note">This setup '
                "was left (another one started, or the manifest changed).</p></div>")
    if ev.error is not None:
        return (f'<div class="question done failed" data-kind="failed"><h3>Setup stopped</h3>'
                f'{diagnostic(ev.error)}<button type="button" class="restart">Start again'
                "</button></div>")
    from ..setup import summary_lines

    lines = summary_lines(ev.outcome, str(context.get("state_path", "")))
    text = "\n".join(lines)
    redact = context.get("redact")
    if callable(redact):
        text = redact(text)
    return (f'<div class="question done" data-kind="saved"><h3>Saved</h3>'
            f'<pre class="summary" id="summary">{e(text)}</pre>'
            '<p><a href="/api/setup/answers" id="export" download="answers.yaml">Export the '
            'answers file</a> (for <code>manifest-runtime setup MANIFEST --answers FILE</code>; '
            'secrets left out)</p></div>')


# -- run panel, sandbox, trace ---------------------------------------------------------------


def run_results(summary_line: str, results: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{e(r["status"])}"><td>{e(r["line"])}</td><td>{e(r["status"])}</td>'
        f'<td>{e(r.get("code") or "")}</td><td>{e(r.get("reason") or "")}</td></tr>'
        for r in results)
    return (f'<p id="run-summary">{e(summary_line)}</p><table id="run-results" class="grid">'
            "<thead><tr><th>line</th><th>outcome</th><th>code</th><th>reason</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def table(rows: Sequence[dict[str, Any]], ident: str, empty: str) -> str:
    if not rows:
        return f'<p class="note" id="{e(ident)}">{e(empty)}</p>'
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{e(cell(row.get(c)))}</td>" for c in columns)
                   + "</tr>" for row in rows)
    return (f'<table class="grid" id="{e(ident)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def trace_entries(entries: Sequence[Entry]) -> str:
    out = []
    for entry in entries:
        details = "".join(f"<dt>{e(k)}</dt><dd><pre>{e(v)}</pre></dd>"
                          for k, v in entry.detail.items())
        body = f"<dl>{details}</dl>" if details else ""
        out.append(f'<details class="entry {e(entry.kind)}" data-id="{entry.id}"><summary>'
                   f'<span class="action">{e(entry.action)}</span> '
                   f'<span class="kind">{e(entry.kind)}</span> {e(entry.title)}</summary>'
                   f"{body}</details>")
    return "".join(out)


def _key(option: MapOption | None) -> str | None:
    return None if option is None else option.key
