"""Streams of JSON values as command-line tools write them, with the line each value
starts on.

Two layouts are read by the same function: one value per line (JSON lines, what
`kubectl ... -o json` piped through `jq -c` or an audit log backend writes), and
indented values one after another (a concatenated JSON stream, what `kubectl get
--watch -o json` writes: each event pretty-printed over many lines). Malformed input
does not stop the stream: a value that cannot be parsed is reported as a `JsonProblem`
naming its first line, and reading resumes at the next line that starts a value
(`{` or `[` in column 0); a value cut off by the end of the file is reported as
truncated. Only the lines of the value being read are held in memory.

`orjson` is used for the one-value-per-line fast path when it is installed (the
`fast` extra); the standard library parses everything else.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

_fast_loads: Callable[[str], Any]
try:  # pragma: no cover - depends on the environment
    import orjson

    _fast_loads = orjson.loads
    FAST_JSON = "orjson"
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads
    FAST_JSON = "json"

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"
# A value that has not ended after this many lines is abandoned (resynchronised).
MAX_VALUE_LINES = 1_000_000


@dataclass(frozen=True, slots=True)
class JsonProblem:
    """A value that could not be read: the line it starts on and why."""

    line: int
    message: str


def open_text(path: str | Path) -> TextIO:
    """Open a trace file for reading as text (gzip when the name ends in .gz); undecodable
    bytes become U+FFFD so that they surface as a JSON problem on their line."""
    p = Path(path)
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace")
    return open(p, encoding="utf-8", errors="replace")  # noqa: SIM115 - the caller closes it


def _incomplete(text: str, err: json.JSONDecodeError) -> bool:
    """Whether `err` means the value is unfinished (more lines may complete it) rather
    than malformed: the parser ran off the end of the text."""
    end = len(text.rstrip(_WS))
    if err.pos >= end:
        return True
    return err.msg.startswith("Unterminated string") and "\n" not in text[err.pos : end]


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


class _Reader:
    """The state of one stream: lines of the value being read and where it started."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.start = 0
        # after an unreadable value: ignore its remaining lines until one starts a value
        self.skipping = False

    def feed(self, n: int, line: str | bytes) -> Iterator[tuple[int, Any] | JsonProblem]:
        """Take line `n` (text, or undecoded bytes); yield the values (and problems) it completes."""
        if isinstance(line, bytes):
            if not self.pending and not self.skipping:
                # the fast path: a whole value on one line, parsed from the bytes
                try:
                    yield n, _fast_loads(line)  # type: ignore[arg-type]
                    return
                except ValueError:
                    pass
            line = line.decode("utf-8", errors="replace")
        if self.skipping:
            if line[:1] not in ("{", "["):
                return
            self.skipping = False
        if not self.pending:
            s = line.strip(_WS)
            if not s:
                return
            try:
                yield n, _fast_loads(s)
                return
            except ValueError:
                pass
            self.pending = [line]
            self.start = n
            yield from self.drain(final=False)
            return
        self.pending.append(line)
        if line.rstrip(_WS).endswith(("}", "]")):
            yield from self.drain(final=False)
        elif len(self.pending) > MAX_VALUE_LINES:
            yield JsonProblem(self.start, f"a JSON value starting here does not end within {MAX_VALUE_LINES} lines")
            self.resync_after_first()

    def resync_after_first(self) -> None:
        """Drop the value that starts the pending lines; keep from the next line that
        starts a value in column 0."""
        for i in range(1, len(self.pending)):
            if self.pending[i][:1] in ("{", "["):
                self.start += i
                self.pending = self.pending[i:]
                return
        self.pending = []
        self.skipping = True

    def drain(self, *, final: bool) -> Iterator[tuple[int, Any] | JsonProblem]:
        """Parse as many complete values as the pending lines hold."""
        while self.pending:
            text = "".join(self.pending)
            i = _skip_ws(text, 0)
            if i >= len(text):
                self.pending = []
                return
            try:
                value, end = _DECODER.raw_decode(text, i)
            except json.JSONDecodeError as err:
                if _incomplete(text, err) and not final:
                    return
                line = self.start + text.count("\n", 0, min(err.pos, len(text)))
                first = self.start + text.count("\n", 0, i)
                if _incomplete(text, err):
                    yield JsonProblem(first, "truncated: the JSON value starting on this line is cut off by the end of the input")
                    self.pending = []
                    return
                at = f"column {err.colno}" if line == first else f"at line {line}, column {err.colno}"
                yield JsonProblem(first, f"not valid JSON: {err.msg} ({at})")
                self.resync_after_first()
                continue
            yield self.start + text.count("\n", 0, i), value
            rest_at = _skip_ws(text, end)
            if rest_at >= len(text):
                self.pending = []
                return
            # more text after the value: keep it as the pending lines
            consumed_lines = text.count("\n", 0, rest_at)
            line_start = text.rfind("\n", 0, rest_at) + 1
            remainder = text[line_start:]
            self.start += consumed_lines
            self.pending = remainder.splitlines(keepends=True)
            if remainder[: rest_at - line_start].strip(_WS):
                # the next value starts in the middle of a line: parse from its own column
                self.pending[0] = " " * (rest_at - line_start) + self.pending[0][rest_at - line_start :]


def iter_values(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any] | JsonProblem]:
    """Every JSON value of a stream of lines, as (first line number, value), with
    `JsonProblem`s in place of values that cannot be read."""
    reader = _Reader()
    n = 0
    for n, line in enumerate(lines, 1):
        yield from reader.feed(n, line)
    if reader.pending:
        yield from reader.drain(final=True)


def iter_file_values(path: str | Path) -> Iterator[tuple[int, Any] | JsonProblem]:
    """`iter_values` over a file, read as bytes (closed when the iteration ends)."""
    p = Path(path)
    with gzip.open(p, "rb") if p.suffix == ".gz" else open(p, "rb") as f:
        yield from iter_values(f)
