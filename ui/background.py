"""Work run in a daemon thread while the pages stay responsive; the pages poll its plain attributes.

Subclasses implement :meth:`BackgroundJob._work`; an exception it raises becomes
:attr:`BackgroundJob.error` (a one-line message shown on the page) instead of reaching a page.
No Streamlit here.
"""

from __future__ import annotations

import threading
import time


class BackgroundJob:
    #: Name of the thread (shows in stack dumps and profilers).
    thread_name = "mgviz-job"

    def __init__(self) -> None:
        self.error: str | None = None
        self.started = time.time()
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self):
        """Start the thread once (a finished or running job is returned as it is)."""
        if not self._thread.is_alive() and self.finished_at is None:
            self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def seconds(self) -> float:
        """Seconds since the job was made (until it finished)."""
        return (self.finished_at or time.time()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished (tests, benchmarks); True when it finished."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.finished

    def _work(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._work()
        except Exception as exc:  # shown on the page; the app keeps working
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished_at = time.time()
