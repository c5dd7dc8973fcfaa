"""Where moto's Step Functions interpreter differs from AWS in a way the campaign depends on, the local
runtime corrects it here, so a local run fails exactly where the deployed one would.

moto 5.2.5: a Distributed Map counts failed items but never fails the map run (`ToleratedFailurePercentage`
"has no effect"). On AWS, more failures than tolerated (default 0) fail the Map state with
`States.ExceedToleratedFailureThreshold`; the letters stage relies on that (docs/architecture.md, decision 5).

moto 5.2.5: a ResultWriter names its manifest after the newest map run of the execution, not its own, so
concurrent Distributed Maps (one Letters map per client) write the same S3 key at once and moto's S3 fails
with "I/O operation on closed file". The writes are serialised here (on AWS every map run has its own folder).

moto 5.2.5: a DynamoDB Query on a table's own key reads every item of the table and compares each one's partition
key (`Table.all_items`); AWS reads the one partition. The approvals table holds every campaign's links, decisions,
audit records and email-ledger entries, so with many campaigns in one runtime every approval read grew with all
of them (bench/bench_load.py, docs/benchmarks.md). Here such a Query reads its partition only; index queries, and
everything a Query does after finding its candidates (sort, page, filter, project), stay moto's own.

moto 5.2.5: a conditional write (`attribute_not_exists(pk)`, `#f = :pending`) checks its condition and then writes,
with nothing between the two held against another thread: two approval POSTs at once could both "win" the
decision and call the workflow back twice, and two sends of one email could both claim the ledger. On AWS each
conditional write is atomic. Here every DynamoDB write takes one lock.

moto 5.2.5: a DynamoDB read walks moto's dictionaries (a Query the partition's items, an index Query or a Scan the
whole table's) while another thread may write into them: the read fails with "RuntimeError: dictionary changed size
during iteration", which a handler sees as an error of the call. Seen as one client of 25 campaigns at once failing
its map item (tests/workflow/test_load.py). On AWS a read sees the table before or after a write. Here the reads
(GetItem, BatchGetItem, Query, Scan, TransactGetItems) take the writes' lock, up to their answer being built.

moto 5.2.5: a `.waitForTaskToken` task's token keeps answering after its task has ended: SendTaskSuccess on a token
whose wait timed out succeeds (and nothing hears it). AWS answers `TaskTimedOut`, and an approval click after its
wait closed must learn that, not be thanked. Here the token's endpoint is reported closed when its task state ends
(timed out, answered, failed or caught), and a callback on a closed token is answered `TaskTimedOut` as on AWS
(moto's own handling of a closed endpoint raises a TypeError instead).

moto 5.2.5: a waitForTaskToken task's TimeoutSeconds runs on the wall clock from the moment the task starts
(`ExecuteState._evaluate_with_timeout`, then `CallbackEndpoint.wait`). Given an answer clock
(coach_local/runtime/answers.py), the wait counts only the time its question could have been answered: from the
request sent, never while an answer is on its way. Without one, moto's wall-clock wait stays.

moto 5.2.5: Step Functions creates a new boto3 client for every Lambda task, item read and result write
(`boto_client_for`): thousands per campaign, each costing more than the call. AWS's service keeps its connections,
as a Lambda container keeps its clients: here one client per region and service is made once per runtime.

moto 5.2.5: SendTaskSuccess and SendTaskFailure offer the token to every execution, and one whose interpreter thread
has not started yet has no environment: the call fails with AttributeError (a redrive passing a review's answer on
at once while other redrives start). Here executions that have not started are passed over: they hold no token.
"""

from __future__ import annotations

import coach_local.moto_imports  # noqa: F401  (first: it keeps moto from loading modules no campaign uses)

# isort: split
import copy
import math
import threading
from collections import defaultdict
from typing import Any

from moto.core.exceptions import AWSError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout, CallbackPoolManager
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client as moto_boto_client
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

_original_map_run = DistributedIterationComponent._map_run
_original_query = Table.query
_original_put_object = ResourceEvalS3._handle_put_object
_original_callback_eval_body = StateTaskServiceCallback._eval_body
_original_pool_add = CallbackPoolManager.add
_original_notify = CallbackPoolManager.notify
_tokens = threading.local()  # the token the callback task running on this thread waits on
_original_task_timeout = StateTaskServiceCallback._evaluate_with_timeout
_original_token_wait = StateTaskServiceCallback._wait_for_task_token_timeout
_answers: Any = None  # the answer clock of the running local runtime, if any
_original_client_for = moto_boto_client.boto_client_for
# every module of moto's interpreter that imported boto_client_for by name
CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)
_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def _client_once(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's client ignores the task's credentials (every client signs as the same fake key): so may its cache."""
    with _clients_lock:
        if (region, service) not in _clients:
            _clients[(region, service)] = _original_client_for(region=region, service=service)
        return _clients[(region, service)]


def _use_client_factory(factory: Any) -> None:
    import importlib

    _clients.clear()
    for name in CLIENT_USERS:
        importlib.import_module(name).boto_client_for = factory  # type: ignore[attr-defined]


_result_writer_lock = threading.Lock()
_dynamodb_lock = threading.RLock()
WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_original_writes = {name: getattr(DynamoDBBackend, name) for name in WRITES}
READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")  # DynamoHandler's actions
_original_reads = {name: getattr(DynamoHandler, name) for name in READS}


def _atomic(write: Any) -> Any:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_lock:
            return write(self, *args, **kwargs)

    return locked


def _serialised_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    with _result_writer_lock:
        _original_put_object(env, resource_runtime_part, state_credentials)


THRESHOLD_ERROR = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()


def tolerated(total: int, count: int | None, percentage: float | None) -> int:
    """How many failed items AWS tolerates: the stricter of the count and the percentage (both default 0)."""
    limits = []
    if count:
        limits.append(int(count))
    if percentage:
        limits.append(math.floor(total * float(percentage) / 100.0))
    return min(limits) if limits else 0


def _map_run_with_tolerance(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
    _original_map_run(self, env, eval_input)
    counter = eval_input.map_run_record.item_counter
    failed = counter.failed.get() + counter.timed_out.get() + counter.aborted.get()
    total = counter.total.get()
    allowed = tolerated(
        total,
        getattr(eval_input, "tolerated_failure_count", 0),
        getattr(eval_input, "tolerated_failure_percentage", 0.0),
    )
    if failed > allowed:
        env.stack.pop()  # the partial results the original pushed
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.MapRunFailed,
                # moto declares EventDetails total, yet builds it with one key as here
                event_details=EventDetails(  # type: ignore[typeddict-item]
                    executionFailedEventDetails={
                        "error": THRESHOLD_ERROR,
                        "cause": f"{failed} of {total} items failed; {allowed} tolerated",
                    }
                ),
            )
        )


def _query_one_partition(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None or not self.range_key_attr:
        return _original_query(self, hash_key, *args, **kwargs)
    view = copy.copy(self)  # the same table, seen with only the partition asked for
    view.items = defaultdict(dict)
    if hash_key in self.items:
        partition = self.items[hash_key]
        comparison, bounds = (args[0], args[1]) if len(args) > 1 else (None, None)
        if comparison == "BEGINS_WITH" and bounds and isinstance(getattr(bounds[0], "value", None), str):
            # and of it only the sort keys with the prefix (moto compares each item's key as a DynamoType, which
            # grew with the campaign's audit partition); moto still applies every condition to what is left
            prefix = bounds[0].value
            partition = {
                k: v for k, v in partition.items() if str(getattr(k, "value", "")).startswith(prefix)
            }
        view.items[hash_key] = partition
    return _original_query(view, hash_key, *args, **kwargs)


class TaskTimedOut(AWSError):
    """What SendTaskSuccess / SendTaskFailure answer on AWS for a token whose task is no longer waiting."""

    TYPE = "TaskTimedOut"


def _notify_unless_closed(self: CallbackPoolManager, callback_id: str, outcome: Any) -> bool:
    endpoint = self.get(callback_id)
    if endpoint is not None and endpoint.consumer_error is not None:
        raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
    return bool(_original_notify(self, callback_id, outcome))


def _pool_add_noting_token(self: CallbackPoolManager, callback_id: str) -> Any:
    endpoint = _original_pool_add(self, callback_id)
    if getattr(_tokens, "watching", False):
        _tokens.token = callback_id
    return endpoint


def _callback_eval_body_closing_token(self: StateTaskServiceCallback, env: Any) -> None:
    """Run the task state (its waits, retries and catches); once it ends, its token answers TaskTimedOut."""
    _tokens.watching, _tokens.token = True, None
    try:
        _original_callback_eval_body(self, env)
    finally:
        token, _tokens.watching, _tokens.token = _tokens.token, False, None
        endpoint = env.callback_pool_manager.get(token) if token else None
        if endpoint is not None:
            endpoint.report(CallbackConsumerTimeout())


class _TimeoutInsideTheTask:
    """A task's timeout seen from inside the task only: the outer wall-clock wait (on the thread that starts the
    task) gets moto's "no timeout", the token wait gets the real value (and the history shows it)."""

    def __init__(self, timeout: Any) -> None:
        self.timeout = timeout
        self.outer = threading.get_ident()

    def eval(self, env: Any) -> None:
        if threading.get_ident() == self.outer:
            env.stack.append(TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS)
        else:
            self.timeout.eval(env=env)

    def is_default_value(self) -> bool:
        return bool(self.timeout.is_default_value())


def _task_timeout_on_answer_clock(self: StateTaskServiceCallback, env: Any) -> None:
    if _answers is None or self.resource.condition != ResourceCondition.WaitForTaskToken:
        return _original_task_timeout(self, env)
    task = copy.copy(self)  # this evaluation's view of the (shared) state, with the timeout moved inside
    task.timeout = _TimeoutInsideTheTask(self.timeout)  # type: ignore[assignment]
    return _original_task_timeout(task, env)


def _token_wait_on_answer_clock(
    self: StateTaskServiceCallback, timeout_seconds: int, callback_endpoint: Any
) -> Any:
    if _answers is None:
        return _original_token_wait(self, timeout_seconds, callback_endpoint)
    return _answers.wait(callback_endpoint, timeout_seconds)


_original_send_task_success = StepFunctionsParserBackend.send_task_success
_original_send_task_failure = StepFunctionsParserBackend.send_task_failure


def _notify(backend: StepFunctionsParserBackend, task_token: str, outcome: Any, running_only: bool) -> bool:
    """moto offers a task token to every execution (SendTaskSuccess: every RUNNING one), and one whose interpreter
    thread has not started yet has no environment: the call failed with AttributeError (seen when a handler answers
    its wait at once, a redrive passing on a review's answer while other redrives start). This is moto's loop with
    the executions that have not started left out: they cannot hold the token."""
    from moto.stepfunctions.parser.api import ExecutionStatus, TaskDoesNotExist, TaskTimedOut
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
    )

    for execution in backend._get_executions(ExecutionStatus.RUNNING if running_only else None):
        env = getattr(getattr(execution, "exec_worker", None), "env", None)
        if env is None:
            continue
        try:
            if env.callback_pool_manager.notify(callback_id=task_token, outcome=outcome):
                return True
        except CallbackNotifyConsumerError as consumer_error:
            if isinstance(consumer_error, CallbackConsumerTimeout):
                raise TaskTimedOut("the task timed out") from consumer_error
            raise TaskDoesNotExist("no task holds this token") from consumer_error
    return False


def _send_task_success(self: StepFunctionsParserBackend, task_token: str, outcome: str) -> Any:
    from moto.stepfunctions.parser.api import InvalidToken, SendTaskSuccessOutput
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

    if not _notify(self, task_token, CallbackOutcomeSuccess(callback_id=task_token, output=outcome), True):
        raise InvalidToken()
    return SendTaskSuccessOutput()


def _send_task_failure(
    self: StepFunctionsParserBackend, task_token: str, error: Any = None, cause: Any = None
) -> Any:
    from moto.stepfunctions.parser.api import InvalidToken, SendTaskFailureOutput
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeFailure

    outcome = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
    if not _notify(self, task_token, outcome, False):
        raise InvalidToken()
    return SendTaskFailureOutput()


def install(answers: Any = None) -> None:
    """`answers`: an AnswerClock for the callback waits (None: moto's wall clock)."""
    global _answers
    _answers = answers
    _use_client_factory(_client_once)
    CallbackPoolManager.add = _pool_add_noting_token  # type: ignore[method-assign]
    CallbackPoolManager.notify = _notify_unless_closed  # type: ignore[method-assign]
    StateTaskServiceCallback._eval_body = _callback_eval_body_closing_token  # type: ignore[method-assign]
    StateTaskServiceCallback._evaluate_with_timeout = _task_timeout_on_answer_clock  # type: ignore[method-assign,assignment]
    StateTaskServiceCallback._wait_for_task_token_timeout = _token_wait_on_answer_clock  # type: ignore[method-assign]
    DistributedIterationComponent._map_run = _map_run_with_tolerance  # type: ignore[method-assign]
    Table.query = _query_one_partition  # type: ignore[method-assign]
    for name, write in _original_writes.items():
        setattr(DynamoDBBackend, name, _atomic(write))
    for name, read in _original_reads.items():
        setattr(DynamoHandler, name, _atomic(read))
    ResourceEvalS3._handle_put_object = staticmethod(_serialised_put_object)  # type: ignore[method-assign]
    StepFunctionsParserBackend.send_task_success = _send_task_success  # type: ignore[method-assign]
    StepFunctionsParserBackend.send_task_failure = _send_task_failure  # type: ignore[method-assign]


def uninstall() -> None:
    global _answers
    _answers = None
    _use_client_factory(_original_client_for)
    CallbackPoolManager.add = _original_pool_add  # type: ignore[method-assign]
    CallbackPoolManager.notify = _original_notify  # type: ignore[method-assign]
    StateTaskServiceCallback._eval_body = _original_callback_eval_body  # type: ignore[method-assign]
    StateTaskServiceCallback._evaluate_with_timeout = _original_task_timeout  # type: ignore[method-assign]
    StateTaskServiceCallback._wait_for_task_token_timeout = _original_token_wait  # type: ignore[method-assign]
    DistributedIterationComponent._map_run = _original_map_run  # type: ignore[method-assign]
    Table.query = _original_query  # type: ignore[method-assign]
    for name, write in _original_writes.items():
        setattr(DynamoDBBackend, name, write)
    for name, read in _original_reads.items():
        setattr(DynamoHandler, name, read)
    ResourceEvalS3._handle_put_object = staticmethod(_original_put_object)  # type: ignore[method-assign]
    StepFunctionsParserBackend.send_task_success = _original_send_task_success  # type: ignore[method-assign]
    StepFunctionsParserBackend.send_task_failure = _original_send_task_failure  # type: ignore[method-assign]
