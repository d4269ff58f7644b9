"""Powertools' Tracer, built on a function's first invocation instead of when its module is imported.

Building a ``Tracer`` imports the X-Ray SDK, whose recorder builds botocore clients at once (~0.3 s, tracing on or
off), and patches botocore and the other libraries it traces. Done at import, that is most of a cold start for a
function that may never trace anything before its first call. :class:`LazyTracer` keeps the decorator where it
was and builds the Tracer (with the same arguments, so the same patching) just before the first invocation's
handler runs: the first invocation pays for it, instead of the init phase. Every client is built later still, on
first use (:mod:`lending.adapters.aws`), so every call a handler makes is traced exactly as before.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


class LazyTracer:
    """Stands in for ``Tracer()`` at module level; the real one is built once, on first use."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._tracer: Tracer | None = None
        self._building = threading.Lock()

    @property
    def tracer(self) -> Tracer:
        """The real Tracer (built now if this is the first use)."""
        if self._tracer is None:
            with self._building:
                if self._tracer is None:
                    from aws_lambda_powertools import Tracer

                    self._tracer = Tracer(**self._options)
        return self._tracer

    def capture_lambda_handler(
        self, *, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[[Handler], Handler]:
        """``Tracer.capture_lambda_handler(...)``, applied to the handler on its first invocation."""

        def decorate(handler: Handler) -> Handler:
            traced: Callable[..., Any] | None = None

            @functools.wraps(handler)
            def run(event: Any, context: Any, **kwargs: Any) -> Any:
                nonlocal traced
                if traced is None:
                    traced = self.tracer.capture_lambda_handler(
                        handler, capture_response=capture_response, capture_error=capture_error
                    )
                return traced(event, context, **kwargs)

            return cast(Handler, run)

        return decorate
