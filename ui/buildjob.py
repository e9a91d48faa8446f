"""A model build run in a background thread, so the analyst can leave the Data page while it runs.

The page starts a :class:`BuildJob`, keeps it in the session and shows its progress
(stage, n/N, finished stages); the app switches every page to the new model on the first
rerun after the job has finished (``ui.widgets.apply_finished_build``). No Streamlit here:
the thread only updates plain attributes the pages poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from mgviz.pipeline import build


class BuildCancelled(Exception):
    """Raised inside the build (at its next progress report) when the analyst cancels it."""


class BuildJob:
    """One build of ``dataset`` with ``config``.

    Parameters
    ----------
    dataset, config, encoder :
        What :func:`mgviz.pipeline.build` takes.
    token : str
        Identifies the model the build will make (data and settings): the pages' cache key.
    source : str
        Human description of the data ("uploaded files (log.csv)").
    builder : callable, optional
        ``builder(dataset, config, encoder, progress=...)``; default :func:`mgviz.pipeline.build`.
    """

    def __init__(self, dataset, config, encoder, token: str, source: str, builder: Callable | None = None):
        self.dataset, self.config, self.encoder = dataset, config, encoder
        self.token, self.source = token, source
        self.builder = builder or build
        self.stage, self.done, self.total = "starting", 0, 1
        self.finished_stages: list[str] = []
        self.model = None
        self.error: str | None = None
        self.cancelled = False
        self.applied = False  #: set by the app once the result was shown / the model opened
        self.started = time.time()
        self.finished_at: float | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mgviz-build", daemon=True)

    def start(self) -> BuildJob:
        if not self._thread.is_alive() and self.finished_at is None:
            self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started

    def cancel(self) -> None:
        """Ask the build to stop at its next progress report (the old model stays open)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished (tests); True when it finished."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.finished

    def fraction(self, stages: Sequence[str]) -> float:
        """Share of the work done, counting ``stages`` (the build's stage names in order) as equal steps."""
        if self.finished:
            return 1.0
        idx = stages.index(self.stage) if self.stage in stages else len(self.finished_stages)
        within = self.done / self.total if self.total else 0.0
        return min(0.99, (idx + within) / max(len(stages), 1))

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise BuildCancelled
        self.stage, self.done, self.total = stage, done, max(total, 1)
        if done >= total and stage not in self.finished_stages:
            self.finished_stages.append(stage)

    def _run(self) -> None:
        try:
            self.model = self.builder(self.dataset, self.config, self.encoder, progress=self._progress)
        except BuildCancelled:
            self.cancelled = True
            self.error = "cancelled"
        except Exception as exc:  # a bad setting or data the levels cannot fit: shown, the old model stays
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished_at = time.time()
