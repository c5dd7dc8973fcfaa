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
conditional write is atomic. Here every DynamoDB write takes one lock (reads do not).
"""

from __future__ import annotations

import copy
import math
import threading
from collections import defaultdict
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

_original_map_run = DistributedIterationComponent._map_run
_original_query = Table.query
_original_put_object = ResourceEvalS3._handle_put_object
_result_writer_lock = threading.Lock()
_dynamodb_write_lock = threading.RLock()
WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_original_writes = {name: getattr(DynamoDBBackend, name) for name in WRITES}


def _atomic(write: Any) -> Any:
    def locked(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_write_lock:
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
        view.items[hash_key] = self.items[hash_key]
    return _original_query(view, hash_key, *args, **kwargs)


def install() -> None:
    DistributedIterationComponent._map_run = _map_run_with_tolerance  # type: ignore[method-assign]
    Table.query = _query_one_partition  # type: ignore[method-assign]
    for name, write in _original_writes.items():
        setattr(DynamoDBBackend, name, _atomic(write))
    ResourceEvalS3._handle_put_object = staticmethod(_serialised_put_object)  # type: ignore[method-assign]


def uninstall() -> None:
    DistributedIterationComponent._map_run = _original_map_run  # type: ignore[method-assign]
    Table.query = _original_query  # type: ignore[method-assign]
    for name, write in _original_writes.items():
        setattr(DynamoDBBackend, name, write)
    ResourceEvalS3._handle_put_object = staticmethod(_original_put_object)  # type: ignore[method-assign]
