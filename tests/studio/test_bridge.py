"""The conversation between the request handlers and the flow thread: one reply per
message; a reply that comes after its request gave up is dropped, not handed to the next."""

from __future__ import annotations

import time

import pytest

from manifest_runtime.studio.bridge import Conversation, Finished, Message, Question


def _question(name: str) -> Question:
    return Question("field", None, name)


def test_a_late_reply_is_not_taken_for_the_next_one() -> None:
    conversation = Conversation()

    def flow() -> None:
        conversation.emit(_question("first"))
        conversation.take()
        time.sleep(0.3)  # slower than the first request waits
        conversation.emit(_question("late"))
        conversation.take()
        conversation.emit(_question("second"))
        conversation.take()
        conversation.emit(Finished(outcome="done"))

    assert conversation.start(flow, timeout=5) == _question("first")
    with pytest.raises(TimeoutError, match="did not answer in time"):
        conversation.send(Message("answer", 1), timeout=0.05)
    assert conversation.send(Message("answer", 2), timeout=5) == _question("second")
    assert conversation.send(Message("answer", 3), timeout=5) == Finished(outcome="done")
    # after the end, every message gets the end
    assert conversation.send(Message("answer", 4), timeout=5) == Finished(outcome="done")
    assert conversation.thread is not None
    conversation.thread.join(timeout=5)
