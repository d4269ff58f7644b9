"""A sandbox vendor that calls the platform back: signed webhooks, each from its own thread after a delay, retried
on a 5xx or no answer with exponential backoff, abandoned when the vendor stops, and every attempt reported.

The identity vendor (its checks' results) and the collection provider (its collections' outcomes) send their
callbacks this way, as the real ones do: signed with the shared secret (``X-Signature``, lending.webhooks).
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from infra.local.vendors.server import SandboxServer
from lending.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

#: How long one callback waits for our webhook's answer. Generous: on a loaded machine the webhook's function waits
#: its turn in the local runtime behind the other applications' steps, and an answer that comes after the vendor
#: stopped waiting turns a delivered result into a retry.
CALLBACK_TIMEOUT_SECONDS = 30.0

#: Told of each attempt: its number and our webhook's HTTP status (None: no answer).
Attempted = Callable[[int, int | None], None]


class CallbackVendor(SandboxServer):
    """A sandbox server whose callbacks are signed and retried; :meth:`settle` waits until those scheduled so far
    are over (delivered, refused, given up or abandoned), after which none of them sends anything more."""

    #: What the secret is, for the message refusing an empty one.
    secret_name = "webhook"

    def __init__(
        self,
        secret: bytes | str | None,
        *,
        host: str,
        port: int,
        api_key: str | None,
        callback_delay: float,
        callback_attempts: int,
        callback_backoff: float,
        callback_timeout: float,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self._secret = b""
        if secret is not None:
            self.secret = secret
        self.callback_delay = callback_delay
        self.callback_attempts = callback_attempts
        self.callback_backoff = callback_backoff
        self.callback_timeout = callback_timeout
        self._lock = threading.Lock()
        self._workers: dict[threading.Thread, str] = {}  # delivery threads still running, and their references
        self._stopping = threading.Event()
        # Callbacks go straight to the given URL, never through a proxy named in the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def secret(self) -> bytes:
        """The shared secret the callbacks are signed with (settable: the local stack may create it later)."""
        return self._secret

    @secret.setter
    def secret(self, value: bytes | str) -> None:
        secret = value.encode() if isinstance(value, str) else bytes(value)
        if not secret:
            raise ValueError(f"the {self.secret_name} secret must not be empty")
        self._secret = secret

    def start(self) -> None:
        self._stopping.clear()
        super().start()

    def stop(self) -> None:
        """Stop serving, abandon pending callbacks and wait for the delivery threads."""
        self._stopping.set()
        super().stop()
        self.settle(timeout=self.callback_timeout + 1)  # an attempt under way ends within its own timeout

    def settle(self, reference: str | None = None, timeout: float | None = None) -> bool:
        """Wait until every callback scheduled so far (all, or those for ``reference``) is over. True if all were
        over within ``timeout`` seconds (None: however long it takes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            workers = [worker for worker, ref in self._workers.items() if reference is None or ref == reference]
        for worker in workers:
            worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in workers)

    def _call_back(self, reference: str, url: str, body: bytes, attempted: Attempted) -> None:
        """Send ``body`` to ``url`` from a worker thread after the delay (called with the lock held)."""
        worker = threading.Thread(
            target=self._deliver, args=(reference, url, body, attempted), name=f"{self.name}-callback-{reference}"
        )
        worker.daemon = True
        self._workers[worker] = reference
        worker.start()

    def _deliver(self, reference: str, url: str, body: bytes, attempted: Attempted) -> None:
        try:
            if self._stopping.wait(self.callback_delay):
                logger.info("%s callback for %s abandoned: the vendor stopped", self.name, reference)
                return
            for attempt in range(1, self.callback_attempts + 1):
                status = self._post(url, body)
                attempted(attempt, status)
                logger.info("%s callback for %s, attempt %d: %s", self.name, reference, attempt, status)
                if status is not None and status < 500:
                    if status >= 400:
                        logger.warning("%s callback for %s refused with %d", self.name, reference, status)
                    return  # 2xx: delivered; 4xx: refused, and resending the same thing will not change that
                if attempt < self.callback_attempts and self._stopping.wait(self.callback_backoff * 2 ** (attempt - 1)):
                    logger.info("%s callback for %s abandoned: the vendor stopped", self.name, reference)
                    return
            logger.warning("%s callback for %s gave up after %d attempts", self.name, reference, self.callback_attempts)
        except Exception:  # a bug here must not end the thread without a word
            logger.exception("%s callback for %s failed", self.name, reference)
        finally:
            with self._lock:
                self._workers.pop(threading.current_thread(), None)

    def _post(self, url: str, body: bytes) -> int | None:
        """POST the signed body; our webhook's HTTP status, or None if it did not answer."""
        if not self._secret:
            logger.warning("%s callback not sent: no %s secret set", self.name, self.secret_name)
            return None
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body, int(time.time()))},
        )
        try:
            with self._opener.open(request, timeout=self.callback_timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return None  # no answer, or one that is not HTTP (a connection cut mid-answer): retried
