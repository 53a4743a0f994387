"""Intake commands that receive payloads (DESIGN §4 "Webhook intake", §5 `serve`):

    webhook.py   a workflow's webhook data_intake: create/delete registration, verification,
                 application-scope routing, one request -> the pipeline (framework-free)
    journal.py   the state file's webhook journal and registered URLs
    app.py       the starlette application uvicorn serves (imports starlette)

The polling intake lives in pipeline/polling.py.
"""
