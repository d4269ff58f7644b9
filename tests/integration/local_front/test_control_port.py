"""The control port answers a scheduled job that failed with a 500 naming it, never a dropped connection."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from infra.local import control
from lending import clock


def test_a_failed_job_is_answered_500_with_the_job_and_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(_stack: Any, name: str, day: Any) -> dict[str, Any]:
        raise control.JobFailed(f"DailyCloseFunction failed for {day.isoformat()}: ClientError: refused")

    monkeypatch.setattr(control, "fire", failing)
    server = control.ControlServer(stack=None).start()  # type: ignore[arg-type]
    try:
        yesterday = clock.today() - timedelta(days=1)
        request = urllib.request.Request(
            server.url + "/schedules/EveryNight",
            method="POST",
            data=json.dumps({"date": yesterday.isoformat()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=30)
        assert answer.value.code == 500
        assert json.loads(answer.value.read()) == {
            "error": f"DailyCloseFunction failed for {yesterday.isoformat()}: ClientError: refused"
        }
    finally:
        server.stop()
