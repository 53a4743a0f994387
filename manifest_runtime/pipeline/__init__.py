"""Running a workflow's data_pipeline over many records (DESIGN §4, §5 `run`):

    records.py      read JSONL input (payloads or contacts), one record per line
    transform.py    the automatic transform: the saved mapping renames source keys
    personalize.py  %FIRSTNAME% ... in personalized textareas, per contact
    journal.py      the state file's record of what ended delivered or dead-lettered
    runner.py       source -> transform -> target for one record (fan-out included)
"""
