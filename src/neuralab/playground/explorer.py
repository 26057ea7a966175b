"""The LLM explorer: a trained language model's next-token odds, sampling and attention, live in the browser.

The page (``/explore``, ``static/explorer.html``) shows, for the text typed so far, the next
token's distribution as bars (as sampling draws it: temperature, top-k and top-p applied —
and the plain softmax beside it), samples one token (or a few) at a time, and draws every
layer's and head's attention over the last tokens of the context. The model is the user's
own run, read from disk with :func:`neuralab.load_run`; the server never trains here.

Which runs the page may open is the server's choice, never the page's: the runs given to
``neuralab explore RUN…``, else the language-model runs found in ``runs/`` when the page
asks. A message names a run by the name the server listed. Security is the playground's:
loopback binding, the socket's Origin must be the page's own, every message is checked
against a strict schema (unknown fields, out-of-range values, prompts over 4,000 characters
and messages over 16 KiB are refused with one line; the session goes on).

Example:
    >>> parse_explorer_message('{"type": "predict", "prompt": "To be", "temperature": 0.8}').temperature
    0.8
    >>> try:
    ...     parse_explorer_message('{"type": "predict", "prompt": "x", "top_p": 2}')
    ... except ExplorerRefusal as error:
    ...     print(error)
    predict.top_p: input should be less than or equal to 1
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from neuralab.playground.sockets import next_text, serve_tab

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 16 * 1024
MAX_PROMPT_CHARS = 4000
SHOWN_TOKENS = 32  # attention is drawn over the context's last 32 tokens
TOP_BARS = 20
LOADED_RUNS = 4  # runs kept in memory by one server
RUNS_FOLDER = Path("runs")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(_Message):
    """Open one of the runs the server listed."""

    type: Literal["open"]
    run: str = Field(min_length=1, max_length=200)


class Predict(_Message):
    """The next token's distribution and the attention for ``prompt``, as sampling with these settings draws."""

    type: Literal["predict"]
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    temperature: float = Field(1.0, ge=0.0, le=5.0)
    top_k: int | None = Field(None, ge=1, le=100_000)
    top_p: float | None = Field(None, gt=0.0, le=1.0)


class Sample(Predict):
    """Draw ``count`` tokens after ``prompt`` (seeded) and send the longer text back."""

    type: Literal["sample"]  # type: ignore[assignment]
    count: int = Field(1, ge=1, le=64)
    seed: int = Field(0, ge=0, le=2**32 - 1)


_MESSAGES = TypeAdapter(Annotated[Open | Sample | Predict, Field(discriminator="type")])


class ExplorerRefusal(ValueError):
    """A message the page may not send; ``str(error)`` is the line it shows."""


def parse_explorer_message(text: str) -> Open | Predict | Sample:
    """Validate one message from the page (see the module docstring for the limits)."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise ExplorerRefusal(f"message refused: {len(text):,} characters, more than {MAX_MESSAGE_CHARS:,}")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ExplorerRefusal("message refused: not a JSON object") from None
    try:
        return _MESSAGES.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        kind = raw.get("type") if isinstance(raw, dict) else None
        parts = [str(part) for part in first["loc"] if part not in ("open", "predict", "sample")]
        where = ".".join([kind, *parts] if kind in ("open", "predict", "sample") else parts) or "message"
        problem = "unknown field" if first["type"] == "extra_forbidden" else first["msg"][0].lower() + first["msg"][1:]
        raise ExplorerRefusal(f"{where}: {problem}") from None


def language_runs(folder: Path = RUNS_FOLDER) -> dict[str, Path]:
    """The finished language-model runs directly under ``folder``, by directory name (newest first)."""
    found = []
    for path in folder.glob("*/summary.json") if folder.is_dir() else []:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(summary, dict) and summary.get("data_kind") == "text":
            found.append(path.parent)
    return {run.name: run for run in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)}


class RunShelf:
    """The runs one server may show (a fixed list, or discovered in ``runs/``) and the few it has loaded."""

    def __init__(self, runs: list[Path] | None = None, *, folder: Path = RUNS_FOLDER):
        self.fixed = {Path(run).name: Path(run) for run in runs} if runs else None
        self.folder = folder
        self.lock = threading.Lock()
        self.loaded: OrderedDict[str, Any] = OrderedDict()

    def available(self) -> dict[str, Path]:
        return dict(self.fixed) if self.fixed is not None else language_runs(self.folder)

    def get(self, name: str) -> Any:
        """The loaded run called ``name`` (validated by ``load_run``; kept while recently used)."""
        from neuralab.api import open_language_model

        with self.lock:
            if name in self.loaded:
                self.loaded.move_to_end(name)
                return self.loaded[name]
        path = self.available().get(name)
        if path is None:
            raise ExplorerRefusal(f"open.run: {name[:60]!r} is not one of the runs this server shows")
        run, _ = open_language_model(path, "explore")
        run.model.eval()
        with self.lock:
            self.loaded[name] = run
            while len(self.loaded) > LOADED_RUNS:
                self.loaded.popitem(last=False)
        return run


class ExplorerSession:
    """One tab: which run it looks at; every method returns the messages to send."""

    def __init__(self, shelf: RunShelf):
        self.shelf, self.run, self.name = shelf, None, None

    def hello(self) -> list[dict[str, Any]]:
        runs = self.shelf.available()
        replies: list[dict[str, Any]] = [{"type": "runs", "runs": list(runs)}]
        if runs:
            replies += self.open(Open(type="open", run=next(iter(runs))))
        return replies

    def open(self, message: Open) -> list[dict[str, Any]]:
        self.run, self.name = self.shelf.get(message.run), message.run
        summary, spec = self.run.summary, self.run.spec
        return [{"type": "opened", "run": self.name, "kind": spec.model.kind, "parameters": summary["n_parameters"],
                 "vocab_size": summary.get("vocab_size"), "dev_loss": summary.get("dev_loss"),
                 "context": getattr(self.run.model, "block_size", None), "dataset": spec.data.dataset,
                 "tokenizer": spec.data.tokenizer}]

    def predict(self, message: Predict) -> dict[str, Any]:
        from neuralab.models.language import attention_of, next_tokens

        run = self._current()
        prompt = message.prompt or "\n"
        table = next_tokens(run.model, run.preprocessor, prompt, top=TOP_BARS, temperature=message.temperature,
                            top_k=message.top_k, top_p=message.top_p, temperatures=(1.0,))
        reply = {"type": "prediction", "prompt": message.prompt, "context": table["context"],
                 "entropy": table["entropy"], "uniform": table["uniform"],
                 "bars": [{"text": row["text"], "probability": row["probability"], "softmax": row["at"]["1.0"]}
                          for row in table["tokens"]], "attention": None}
        if hasattr(run.model, "attention_maps"):
            shown = attention_of(run.model, run.preprocessor, prompt)
            count = min(SHOWN_TOKENS, len(shown["tokens"]))
            weights = shown["weights"][..., -count:, -count:].numpy()  # (layers, heads, n, n): the last n tokens
            reply["attention"] = {"tokens": shown["tokens"][-count:], "layers": int(weights.shape[0]),
                                  "heads": int(weights.shape[1]), "weights": np.round(weights, 3).tolist()}
        return reply

    def sample(self, message: Sample) -> dict[str, Any]:
        import neuralab.api as api

        self._current()
        text = "".join(api.sample(self.run, message.prompt, length=message.count, temperature=message.temperature,
                                  top_k=message.top_k, top_p=message.top_p, seed=message.seed))
        return {"type": "sampled", "added": text, "prompt": (message.prompt + text)[-MAX_PROMPT_CHARS:]}

    def _current(self) -> Any:
        if self.run is None:
            raise ExplorerRefusal("no language model is open: train one (neuralab train "
                                  "examples/shakespeare-char.yaml) or start `neuralab explore RUN`")
        return self.run


class ExplorerConnection:
    """One tab's socket: a message in, its answer out (the model runs in a worker thread)."""

    def __init__(self, websocket: Any, shelf: RunShelf):
        self.websocket, self.session = websocket, ExplorerSession(shelf)

    async def run(self) -> None:
        await self._send(await self._safely(self.session.hello))
        while (text := await next_text(self.websocket)) is not None:
            await self._send(await self._safely(lambda: self._answer(text)))

    def _answer(self, text: str) -> list[dict[str, Any]]:
        message = parse_explorer_message(text)
        if message.type == "open":
            return self.session.open(message)
        if message.type == "sample":
            return [self.session.sample(message)]
        return [self.session.predict(message)]

    async def _safely(self, work: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        from neuralab.errors import NeuralabError

        try:
            return await asyncio.to_thread(work)
        except ExplorerRefusal as error:
            return [{"type": "error", "message": str(error)}]
        except NeuralabError as error:  # e.g. a character outside the vocabulary: named, the session goes on
            return [{"type": "error", "message": "; ".join(error.problems)}]
        except Exception as error:  # an engine failure must not end the tab's session
            log.exception("explorer message failed")
            return [{"type": "error", "message": f"{type(error).__name__}: {error}"[:300]}]

    async def _send(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            with contextlib.suppress(RuntimeError):  # the tab closed meanwhile
                await self.websocket.send_text(json.dumps(message))


def add_explorer_routes(app: Any, *, static: Path, origin_allowed: Callable[[str | None, str | None], bool],
                        max_sessions: int, runs: list[Path] | None = None) -> None:
    """The page (``/explore``) and its socket (``/ws/explore``), with the playground's origin rule."""
    from fastapi.responses import FileResponse

    app.state.explorer_shelf = RunShelf(runs)
    app.state.explorer_tabs = set()

    @app.get("/explore")
    async def explore_page() -> FileResponse:
        return FileResponse(static / "explorer.html", headers={"Cache-Control": "no-store"})

    @app.websocket("/ws/explore")
    async def explore_socket(websocket: WebSocket) -> None:
        async def connect() -> ExplorerConnection:
            return ExplorerConnection(websocket, app.state.explorer_shelf)

        await serve_tab(websocket, app.state.explorer_tabs, origin_allowed=origin_allowed, max_sessions=max_sessions,
                        connect=connect, page="explorer")
