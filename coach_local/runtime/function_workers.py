"""Functions run in worker processes: the local runtime on more than one core.

On AWS every function runs in its own container and talks to AWS over the network. Locally everything shared one
process, so one core: moto, the Step Functions interpreter and every handler took turns on one interpreter lock.
With function workers the handlers of the busy functions (asks, clicks, digests, letters, outcomes) run in worker
processes — the containers — and their AWS calls come back to the runtime's process, where moto answers them as
it answers its own: botocore serialises, signs and parses in the worker, moto parses, works and answers in the
runtime. The handler files, the ASL and every request on the wire are the same; only where the Python runs moves.

The wire between them is a socket pair carrying pickled tuples:

    runtime → worker   ("invoke", id, function, event JSON)  ("reply", id, answer)  ("env", variables)  ("stop",)
    worker → runtime   ("result", id, ok, result JSON | error payload)  ("aws", id, method, url, headers, body)
                       ("schedule", id, person, delay, token)  ("ready",)

A worker's handler errors come back as Lambda's error payload and are raised in the runtime with the same
`errorType`, so the ASL's Retry and Catch see what they see on AWS. A worker that dies fails the invocations it
held, with `errorType` `Runtime.ExitError` (Lambda's name for a container that exited).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
# The functions whose work is worth a trip to another process (a campaign's asks, clicks, digests, letters and
# outcomes); the rest (intake, the audience query that starts while the workers start, notify, feeds) stay here.
REMOTE_FUNCTIONS = frozenset(
    {
        "approval_request",
        "approval_api",
        "approval_digest",
        "letters",
        "client_outcome",
        "summary",
        "prescriber_notices",
        "clinical_review",
        "open_waits",
    }
)
START_TIMEOUT_SECONDS = 120.0


class RemoteFunctionError(Exception):
    """A handler's error in a worker, as Lambda reports it: `error_type` is its `errorType`."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.error_type = str(payload.get("errorType", "Exception"))
        self.remote_trace = list(payload.get("stackTrace", []))


class _Wire:
    """One end of the socket pair: pickled messages, sent whole by any thread, read by one."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._send_lock = threading.Lock()

    def send(self, *message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._send_lock:
            self.connection.send_bytes(data)

    def receive(self) -> tuple[Any, ...]:
        # the socket pair joins this process and the worker it started, nothing else can write to it
        return tuple(pickle.loads(self.connection.recv_bytes()))  # noqa: S301


class _Pending:
    """Futures by message id. Once the other side is gone every future fails, those asked for later too."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._futures: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._gone: BaseException | None = None

    def new(self) -> tuple[int, Future[Any]]:
        future: Future[Any] = Future()
        with self._lock:
            number = next(self._ids)
            if self._gone is not None:
                future.set_exception(self._gone)
            else:
                self._futures[number] = future
        return number, future

    def resolve(self, number: int, value: Any) -> None:
        with self._lock:
            future = self._futures.pop(number, None)
        if future is not None:
            future.set_result(value)

    def fail_all(self, error: BaseException) -> None:
        with self._lock:
            self._gone = error
            futures, self._futures = list(self._futures.values()), {}
        for future in futures:
            if not future.done():
                future.set_exception(error)


# --- the runtime's side ---------------------------------------------------------------------------------------
class _Worker:
    def __init__(self, number: int, answer_aws: Callable[..., Any], schedule: Callable[..., None]) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(  # noqa: S603  (this interpreter, a module of ours)
            [sys.executable, "-m", "coach_local.function_worker", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            cwd=str(ROOT),
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),  # a handler's print never mixes with `coach run --json`
        )
        theirs.close()
        self.number = number
        self.wire = _Wire(Connection(ours.detach()))
        self.pending = _Pending()
        self.ready = threading.Event()
        self.dead: str | None = None
        self.peak_kib = 0  # the worker's own peak resident memory, as it reports when it stops
        self._answer_aws, self._schedule = answer_aws, schedule
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"function-worker-{number}")
        self._reader.start()

    def _read(self) -> None:
        # The worker's AWS calls are answered here, one after another, as they arrive: handing each to another
        # thread costs two more turns of the interpreter lock per call, which doubled a 100k campaign's time.
        # Nothing moto answers waits for a function (no handler invokes a function or waits on an execution).
        try:
            while True:
                message = self.wire.receive()
                kind = message[0]
                if kind == "result":
                    self.pending.resolve(message[1], message[2:])
                elif kind == "aws":
                    self._aws(*message[1:])
                elif kind == "schedule":
                    self._scheduled(*message[1:])
                elif kind == "ready":
                    self.ready.set()
                elif kind == "peak":
                    self.peak_kib = int(message[1])
        except (EOFError, OSError):
            pass
        finally:
            code = self.process.poll()
            self.dead = f"function worker {self.number} exited" + (f" with code {code}" if code else "")
            self.ready.set()
            self.pending.fail_all(
                RemoteFunctionError({"errorType": "Runtime.ExitError", "errorMessage": self.dead})
            )

    def _aws(self, number: int, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            answer: Any = ("ok", self._answer_aws(method, url, headers, body))
        except Exception as exc:  # an answer moto could not give is the worker's error, as a network error is
            answer = ("error", f"{type(exc).__name__}: {exc}")
        self._reply(number, answer)

    def _scheduled(self, number: int, person: str, delay: float, token: str) -> None:
        try:
            self._schedule(person, delay, token)
            answer: Any = ("ok", None)
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        self._reply(number, answer)

    def _reply(self, number: int, answer: Any) -> None:
        with contextlib.suppress(OSError):  # the worker is gone: its invocations fail on their own
            self.wire.send("reply", number, answer)

    def invoke(self, name: str, event: Any) -> Any:
        if not self.ready.wait(START_TIMEOUT_SECONDS) or self.dead:
            raise RemoteFunctionError(
                {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": self.dead or "function worker did not start",
                }
            )
        number, future = self.pending.new()
        try:
            self.wire.send("invoke", number, name, json.dumps(event))
        except OSError as exc:  # the worker went between the check and the send
            raise RemoteFunctionError(
                {"errorType": "Runtime.ExitError", "errorMessage": f"function worker {self.number}: {exc}"}
            ) from exc
        ok, payload = future.result()
        if not ok:
            raise RemoteFunctionError(payload)
        return json.loads(payload)

    def set_environment(self, variables: dict[str, str]) -> None:
        self.wire.send("env", dict(variables))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.wire.send("stop")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        self.wire.connection.close()


def answer_with_moto(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, dict, bytes]:
    """What moto answers a request botocore prepared in a worker: the in-process mock's own path."""
    from botocore.awsrequest import AWSPreparedRequest
    from botocore.compat import HTTPHeaders
    from moto.core.models import botocore_stubber

    request_headers = HTTPHeaders()
    for key, value in headers:
        request_headers[key] = value
    request = AWSPreparedRequest(
        method=method, url=url, headers=request_headers, body=body, stream_output=False
    )
    response = botocore_stubber.process_request(request)
    if response is None:
        raise ConnectionError(f"no local AWS service answers {url.split('?')[0]}")
    status, response_headers, response_body = response
    data = response_body.encode("utf-8") if isinstance(response_body, str) else bytes(response_body or b"")
    return int(status), {str(k): str(v) for k, v in dict(response_headers).items()}, data


class FunctionWorkers:
    """`processes` worker processes, started with the runtime's environment; invocations go round them."""

    def __init__(self, processes: int, schedule: Callable[[str, float, str], None]) -> None:
        self.processes = processes
        self._schedule = schedule
        self._workers: list[_Worker] = []
        self._turn = itertools.count()

    def start(self) -> None:
        self._workers = [_Worker(n, answer_with_moto, self._schedule) for n in range(self.processes)]

    def set_environment(self, variables: dict[str, str]) -> None:
        for worker in self._workers:
            worker.set_environment(variables)

    def runs(self, name: str) -> bool:
        return bool(self._workers) and name in REMOTE_FUNCTIONS

    def invoke(self, name: str, event: Any) -> Any:
        worker = self._workers[next(self._turn) % len(self._workers)]
        return worker.invoke(name, event)

    def stop(self) -> list[int]:
        """Stop every worker; their own peak resident memories in MiB."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
        return [worker.peak_kib // 1024 for worker in workers]


# --- the worker's side ------------------------------------------------------------------------------------------
class _RawBody(io.BytesIO):
    """An answer's body as botocore reads a socket's: whole, or streamed in pieces."""

    def stream(self, **_: Any) -> Any:
        while piece := self.read(64 * 1024):
            yield piece


class _RemoteScheduler:
    """The digest timer lives in the runtime: a worker's `schedule` is a call to it (coach.ports.DigestScheduler)."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call

    def schedule(self, person: str, delay_seconds: float, task_token: str) -> None:
        self._call("schedule", person, float(delay_seconds), task_token)


def _warm_letters() -> None:
    """What a warm container has done once: the letter fonts parsed (a third of a second) before the first specimen
    or batch needs them. The letter is the specimens' fictitious member's, drawn and thrown away."""
    from coach.letters.render import render_letters
    from coach.letters.specimen import SPECIMEN_MEMBER

    render_letters([(SPECIMEN_MEMBER, "# Warm up\n**Bold** and *italic* text.", "en")])


class _WorkerProcess:
    def __init__(self, wire: _Wire) -> None:
        self.wire = wire
        self.pending = _Pending()
        self.handlers: dict[str, Any] = {}
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="invocation")
        self._log_file: Any = None

    # a call to the runtime (an AWS request, a digest wake-up), answered by its "reply"
    def call(self, kind: str, *arguments: Any) -> Any:
        number, future = self.pending.new()
        if not future.done():
            self.wire.send(kind, number, *arguments)
        status, value = future.result()
        if status != "ok":
            raise ConnectionError(f"the local runtime could not answer: {value}")
        return value

    def forward(self, request: Any, **_: Any) -> Any:
        """botocore's before-send hook: the prepared request goes to the runtime's moto, its answer comes back."""
        from botocore.awsrequest import AWSResponse

        body = request.body
        if hasattr(body, "read"):
            position = body.tell() if hasattr(body, "tell") else None
            data = body.read()
            if position is not None and hasattr(body, "seek"):
                body.seek(position)
            body = data
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [
            (str(k), v.decode("utf-8") if isinstance(v, bytes) else str(v))
            for k, v in request.headers.items()
        ]
        status, response_headers, data = self.call("aws", request.method, request.url, headers, body or b"")
        return AWSResponse(request.url, status, response_headers, _RawBody(data))

    def prepare(self) -> None:
        import botocore.handlers

        # every client any handler builds sends through the runtime (as moto's mock hooks every client)
        botocore.handlers.BUILTIN_HANDLERS.append(("before-send", self.forward))
        from coach_local import moto_speed
        from coach_local.dispatch import quiet_metrics_warning

        moto_speed.install_botocore()
        quiet_metrics_warning()
        for name in sorted(REMOTE_FUNCTIONS):
            self.handler(name)
        _warm_letters()

    def handler(self, name: str) -> Any:
        if name not in self.handlers:
            from coach_local.dispatch import _load

            self.handlers[name] = _load(name).handler
        return self.handlers[name]

    def configure(self, variables: dict[str, str]) -> None:
        os.environ.update(variables)
        from coach import runtime as coach_runtime

        from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
        from coach_local.runtime.environment import LOGGER_NAME

        coach_runtime.reset()
        if lake_uri := os.environ.get("LAKE_URI"):
            lake = Path(lake_uri)
            coach_runtime.use_claims_engine(lambda: DuckDbClaimsEngine(lake))
        coach_runtime.use_digest_scheduler(_RemoteScheduler(self.call))
        logs = Path(variables["COACH_FUNCTION_LOG"]) if "COACH_FUNCTION_LOG" in variables else None
        if logs is not None and self._log_file is None:
            import logging

            import coach.observability  # noqa: F401  (the Powertools logger and its handler)

            # line-buffered appends: each log line reaches OUT/logs/functions.log whole, beside the runtime's
            self._log_file = open(logs, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            for log_handler in logging.getLogger(LOGGER_NAME).handlers:
                if isinstance(log_handler, logging.StreamHandler):
                    log_handler.setStream(self._log_file)

    def run(self, number: int, name: str, event_json: str) -> None:
        from coach_local.dispatch import (
            FakeLambdaContext,
            error_payload,
            forget_unpublished_metrics,
            invocation_log_keys,
        )

        try:
            context = FakeLambdaContext.of(name)
            with invocation_log_keys(context):
                result = self.handler(name)(json.loads(event_json), context)
            message: tuple[Any, ...] = ("result", number, True, json.dumps(result))
        except Exception as exc:
            message = ("result", number, False, error_payload(exc))
        finally:
            forget_unpublished_metrics()
        with contextlib.suppress(OSError):
            self.wire.send(*message)

    def serve(self) -> None:
        self.prepare()
        configured = False
        while True:
            try:
                message = self.wire.receive()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "reply":
                self.pending.resolve(message[1], message[2])
            elif kind == "invoke":
                self.pool.submit(self.run, *message[1:])
            elif kind == "env":
                self.configure(message[1])
                if not configured:
                    configured = True
                    self.wire.send("ready")
            elif kind == "stop":
                break
        # nothing answers an AWS call any more: an invocation still running fails at its next call, and ends
        self.pending.fail_all(ConnectionError("the local runtime stopped"))
        self.pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(OSError):
            self.wire.send("peak", peak_memory_kib())
        if self._log_file is not None:
            self._log_file.close()


def peak_memory_kib() -> int:
    """This process's own peak resident memory (VmHWM). Not ru_maxrss: Linux carries that across exec, so a
    process started by a large one reports at least its parent's size at the time."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kibibytes on Linux


def serve(connection: Connection) -> None:
    """The worker's life: load the handlers, then serve the runtime until it stops or goes."""
    _WorkerProcess(_Wire(connection)).serve()
