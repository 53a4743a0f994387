"""Type-to-search for a dropdown or multiselect whose options take a search text (the form
field's `search_term`, reference §5.2): a search line above the option list. Typing re-runs
the options command with the text (through `search`, setup/flow.py) once the typing pauses
for DEBOUNCE seconds, in a background thread; ↑/↓ move, Enter chooses, Tab toggles an option
of a multiselect. A key that acts on the list (↑, ↓, Tab, Enter) first runs the search for
what is typed, if it has not run yet, so what is chosen always belongs to the text shown.

A failing search shows its error under the list and keeps the previous results. Ctrl-C and
Ctrl-D stop setup, as in the other prompts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ManifestRuntimeError
from ..setup.model import UNANSWERED, Choice, Search, Searched

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

DEBOUNCE = 0.3  # seconds of no typing before the options are fetched again
SHOWN = 10  # options listed at once
SKIP = "(skip)"


class SearchSelect:
    """One searchable dropdown (or, with `multi`, multiselect)."""

    def __init__(self, label: str, initial: Sequence[Choice], search: Search, *,
                 multi: bool = False, required: bool = True, debounce: float | None = None,
                 title: Callable[[Choice], str] = lambda c: c.display,
                 redact: Callable[[str], str] = lambda text: text,
                 io: dict[str, Any] | None = None) -> None:
        self.label = label
        self.search = search
        self.multi = multi
        self.required = required
        self.debounce = DEBOUNCE if debounce is None else debounce
        self.title = title
        self.redact = redact
        self.io = io or {}
        self.results: list[Choice] = list(initial)
        self.fetched = ""  # the text the results were fetched with
        self.index = 0
        self.picked: list[tuple[str, Choice]] = []  # multiselect: (search text, option)
        self.message = ""
        self._generation = 0
        self._state = threading.Lock()  # generation, results
        self._fetching = threading.Lock()  # one fetch at a time

    # -- fetching ------------------------------------------------------------------------------

    def _fetch(self, text: str, generation: int) -> None:
        with self._fetching:
            with self._state:
                if generation != self._generation or text == self.fetched:
                    return
            try:
                found = list(self.search(text))
                message = f"{len(found)} option(s) for {text!r}" if text else ""
            except ManifestRuntimeError as exc:
                found, message = None, f"✗ search failed: {self.redact(exc.diagnostic.message)}"
            with self._state:
                if generation != self._generation:
                    return
                if found is not None:
                    self.results, self.fetched, self.index = found, text, 0
                self.message = message

    def _typed(self, text: str, app: Any) -> None:
        """Debounced: fetch once the typing has paused."""
        with self._state:
            self._generation += 1
            generation = self._generation

        def later() -> None:
            time.sleep(self.debounce)
            self._fetch(text, generation)
            app.invalidate()

        threading.Thread(target=later, daemon=True).start()

    def _flush(self, text: str) -> None:
        """Fetch now (in this thread) what is typed, if it has not been fetched."""
        with self._state:
            self._generation += 1
            generation = self._generation
        self._fetch(text, generation)

    # -- presentation ------------------------------------------------------------------------

    def _items(self) -> list[Choice | None]:
        items: list[Choice | None] = list(self.results)
        if not self.required and not self.multi:
            items.append(None)  # (skip)
        return items

    def _lines(self) -> StyleAndTextTuples:
        items = self._items()
        start = max(0, min(self.index - SHOWN // 2, len(items) - SHOWN))
        out: StyleAndTextTuples = []
        for i, item in enumerate(items[start:start + SHOWN], start):
            pointer = "» " if i == self.index else "  "
            mark = ""
            if self.multi and item is not None:
                mark = "[x] " if any(c == item for _, c in self.picked) else "[ ] "
            text = SKIP if item is None else self.title(item)
            out.append(("class:pointer" if i == self.index else "", f"  {pointer}{mark}{text}\n"))
        if not items:
            out.append(("", "  (no options: type to search)\n"))
        elif len(items) > SHOWN:
            out.append(("", f"  ... {len(items)} options\n"))
        if self.multi and self.picked:
            out.append(("", "  chosen: " + ", ".join(self.title(c) for _, c in self.picked)
                        + "\n"))
        if self.message:
            out.append(("", f"  {self.message}\n"))
        return out

    # -- the prompt ----------------------------------------------------------------------------

    def run(self) -> Any:
        """The answer: the chosen value (a `Searched` when a search text was typed), a list
        of them for a multiselect, or UNANSWERED for (skip)."""
        from prompt_toolkit.application import Application
        from prompt_toolkit.buffer import Buffer
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout import HSplit, Layout, VSplit, Window
        from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl

        buffer = Buffer(multiline=False)
        keys = KeyBindings()
        how = ("Tab picks, Enter ends" + ("" if self.required else "; none picked: none")) \
            if self.multi else "Enter chooses"
        head = FormattedTextControl([("class:question", f"? {self.label} "),
                                     ("", f"(type to search; ↑↓ move, {how})")])
        layout = Layout(HSplit([
            Window(head, height=1),
            VSplit([Window(FormattedTextControl("  search: "), width=10),
                    Window(BufferControl(buffer))], height=1),
            Window(FormattedTextControl(self._lines)),
        ]), focused_element=buffer)
        app: Application[Any] = Application(layout=layout, key_bindings=keys,
                                            erase_when_done=True, **self.io)
        buffer.on_text_changed += lambda b: self._typed(b.text, app)

        def move(step: int) -> None:
            self._flush(buffer.text)
            count = len(self._items())
            if count:
                self.index = (self.index + step) % count

        @keys.add("up")
        def _up(event: Any) -> None:
            move(-1)

        @keys.add("down")
        def _down(event: Any) -> None:
            move(1)

        @keys.add("tab")
        def _tab(event: Any) -> None:
            if not self.multi:
                return
            self._flush(buffer.text)
            items = self._items()
            if items and items[self.index] is not None:
                item = items[self.index]
                assert item is not None
                found = [p for p in self.picked if p[1] == item]
                if found:
                    self.picked.remove(found[0])
                else:
                    self.picked.append((self.fetched, item))

        @keys.add("enter")
        def _enter(event: Any) -> None:
            self._flush(buffer.text)
            items = self._items()
            if self.multi:  # nothing picked: the highlighted one, or none when optional
                current = items[self.index] if items and self.required else None
                picked = self.picked or ([(self.fetched, current)] if current else [])
                if not picked and self.required:
                    self.message = "choose at least one (Tab picks)"
                    return
                event.app.exit(result=picked)
                return
            if not items:
                self.message = "nothing to choose: type to search"
                return
            event.app.exit(result=items[self.index])

        @keys.add("c-c")
        @keys.add("c-d")
        def _stop(event: Any) -> None:
            event.app.exit(exception=KeyboardInterrupt())

        try:
            result = app.run()
        except EOFError:  # the end of a piped input, like Ctrl-D
            raise KeyboardInterrupt from None
        finally:
            with self._state:
                self._generation += 1  # no pending search may run after this
        return self._answer(result)

    def shown(self, answer: Any) -> str:
        """The answer as a line, once the prompt is gone."""
        if answer is UNANSWERED:
            return "(skipped)"
        values = answer.value if isinstance(answer, Searched) else answer
        known = {str(c.value): c for c in self.results} | \
            {str(c.value): c for _, c in self.picked}
        items = values if isinstance(values, list) else [values]
        return ", ".join(self.title(known[str(v)]) if str(v) in known else str(v)
                         for v in items)

    def _answer(self, result: Any) -> Any:
        if self.multi:
            picked: list[tuple[str, Choice]] = result
            if not picked:
                return UNANSWERED
            texts = tuple(dict.fromkeys(text for text, _ in picked))
            values = [c.value for _, c in picked]
            return values if texts == ("",) else Searched(texts, values)
        if result is None:
            return UNANSWERED
        choice: Choice = result
        return Searched((self.fetched,), choice.value) if self.fetched else choice.value
