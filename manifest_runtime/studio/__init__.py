"""`manifest-runtime studio`: a local page that shows the app as App Studio's users see it.

    app.py            the starlette app: the page, its assets, the JSON endpoints
    manifest.py       the manifest, re-validated when its file changes (edit-reload)
    setup_session.py  one setup walked from the page: setup/flow.py in a thread of its own
    bridge.py         the PageAnswerer and the one-message-one-event conversation with it
    render.py         every HTML fragment (questions, failures, results, trace), escaped
    markdown.py       help texts (CommonMark) rendered with raw HTML escaped
    run_panel.py      payloads through the batch engine; dead letters; sandbox contacts
    trace.py          the trace panel's log (commands, HTTP attempts), redacted
    services.py       what the CLI hands over: clients, envs, state, runs (typed, no argparse)
    assets/           page.html, studio.js, studio.css (mermaid comes from graph/assets)

The command line is cli/studio.py; docs/studio.md describes the page.
"""
