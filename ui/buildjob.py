"""A model build run in a background thread, so the analyst can leave the Data page while it runs.

The page starts a :class:`BuildJob`, keeps it in the session and shows its progress
(stage, n/N, finished stages); the app switches every page to the new model on the first
rerun after the job has finished (``ui.widgets.apply_finished_build``). No Streamlit here:
the thread only updates plain attributes the pages poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mgviz.pipeline import build
from ui.background import BackgroundJob


class BuildCancelled(Exception):
    """Raised inside the build (at its next progress report) when the analyst cancels it."""


class BuildJob(BackgroundJob):
    """One build of ``dataset`` with ``config``.

    Parameters
    ----------
    dataset, config, encoder :
        What :func:`mgviz.pipeline.build` takes.
    key : ui.cache.ModelKey
        Identifies the model the build will make (data and settings): the pages' cache key.
    source : str
        Human description of the data ("uploaded files (log.csv)").
    builder : callable, optional
        ``builder(dataset, config, encoder, progress=...)``; default :func:`mgviz.pipeline.build`.
    """

    thread_name = "mgviz-build"

    def __init__(self, dataset, config, encoder, key, source: str, builder: Callable | None = None):
        self.dataset, self.config, self.encoder = dataset, config, encoder
        self.key, self.source = key, source
        self.builder = builder or build
        self.stage, self.done, self.total = "starting", 0, 1
        self.finished_stages: list[str] = []
        self.model = None
        self.cancelled = False
        self.applied = False  #: set by the app once the result was shown / the model opened
        self._cancel = threading.Event()
        super().__init__()

    def cancel(self) -> None:
        """Ask the build to stop at its next progress report (the old model stays open)."""
        self._cancel.set()

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

    def _work(self) -> None:
        try:
            self.model = self.builder(self.dataset, self.config, self.encoder, progress=self._progress)
        except BuildCancelled:
            self.cancelled = True
            self.error = "cancelled"
