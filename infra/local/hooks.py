"""The local stack's four hooks into moto's internals; everything else it uses is moto's public API.

moto is pinned (pyproject.toml), and each hook wraps one method whose signature has been the same from moto 4.2 to
5.2.5, keeping moto's own code on both sides of it:

1. :func:`in_process_lambda`: ``LambdaFunction._invoke_lambda``. moto runs Lambda code in Docker, which this machine
   does not have; this runs the handler in this process instead. Everything above it stays moto's: ``lambda.invoke``,
   Step Functions tasks, event source mappings.
2. :func:`workflow_task_principal`: Step Functions' Lambda task integration. A workflow's task invokes its function
   as the state machine's role; moto signs every interpreter call with the same dummy key, so the hook tells the
   local IAM check which state machine is calling (read from the execution's context object: moto runs each state
   on a thread of its own).
3. :func:`serialised_dynamodb`: ``DynamoHandler.call_action``. moto's DynamoDB is not thread-safe (measured on 5.2.5:
   concurrent TransactWriteItems crash, apply a conditional write twice, or roll back another request's write);
   DynamoDB runs each request atomically, so here each runs alone. Requests still interleave between each other,
   which is where real races live.
4. :func:`item_level_rollback`: ``DynamoDBBackend.transact_write_items``. moto backs a transaction out by deep-copying
   every table it names before it starts: seconds per transaction for a table of 10,000 loans, which the servicing
   benchmark needs. A transaction only ever changes the items it names, so copies of those items are an exact
   rollback; moto's own transaction code (conditions, cancellation reasons, error order) still runs.

What holds each: ``tests/integration/platform/test_local_runtime.py`` (1: a handler runs in-process, its calls
recorded and refused as IAM would), the e2e suite's least-privilege check (2: every state machine's
``lambda:InvokeFunction`` grant is used by a recorded call of that state machine), the adapters' concurrency tests
(3: ``tests/integration/adapters``), ``tests/integration/adapters/test_item_rollback.py`` (4).
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock


@contextmanager
def in_process_lambda(invoke: Callable[[Any, Any], tuple[str, bool, str]]) -> Iterator[None]:
    """moto's Lambda invoke answered by ``invoke(function, event) -> (payload, errored, logs)``."""
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoke(self, event)

    with mock.patch.object(LambdaFunction, "_invoke_lambda", _invoke_lambda):
        yield


@contextmanager
def workflow_task_principal(entered: Callable[[str], object], left: Callable[[object], None]) -> Iterator[None]:
    """Around each Lambda task: ``entered(state_machine_arn)`` before the invoke, ``left(token)`` after it."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    integrate = lambda_eval_utils.execute_lambda_function_integration

    def as_state_machine(env: Any, *args: Any, **kwargs: Any) -> Any:
        token = entered(env.states.context_object.context_object_data["StateMachine"]["Id"])
        try:
            return integrate(env, *args, **kwargs)
        finally:
            left(token)

    with mock.patch.object(lambda_eval_utils, "execute_lambda_function_integration", as_state_machine):
        yield


@contextmanager
def serialised_dynamodb() -> Iterator[None]:
    """One moto DynamoDB request at a time, as each request is atomic in DynamoDB."""
    from moto.dynamodb.responses import DynamoHandler

    handle = DynamoHandler.call_action
    lock = threading.Lock()

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return handle(self)

    with mock.patch.object(DynamoHandler, "call_action", one_at_a_time):
        yield


@contextmanager
def item_level_rollback() -> Iterator[None]:
    """moto's TransactWriteItems, backed out by restoring copies of the items it names instead of whole tables."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    transact = models.DynamoDBBackend.transact_write_items
    # moto's backup of each table is ``copy.deepcopy(table)`` inside the method: during the call, the table is its
    # own "backup" (moto's restore then puts back the live table), and the items below are the real backup.
    live_tables = types.SimpleNamespace(
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)
    )

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            if "ConditionCheck" in entry:
                continue  # changes nothing
            operation = next(iter(entry.values()), {})
            table = self.tables.get(operation.get("TableName"))
            key = operation.get("Item") if "Put" in entry else operation.get("Key")
            if table is None or not key or table.hash_key_attr not in key:
                continue  # malformed: moto itself reports what is wrong with it
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            try:
                current = table.get_item(hash_value, range_value)
            except Exception:
                continue  # moto reports it
            backups.append((table, hash_value, range_value, copy.deepcopy(current)))
        try:
            transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(backups):
                if item is None:
                    table.delete_item(hash_value, range_value)
                elif range_value is not None:
                    table.items[hash_value][range_value] = item
                else:
                    table.items[hash_value] = item
            raise

    with ExitStack() as hooks:
        hooks.enter_context(mock.patch.object(models, "copy", live_tables))
        hooks.enter_context(mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items))
        yield
