"""Segment names written by a language model in a background thread, so the Macro page stays responsive.

The page starts a :class:`NameJob` for the segments it shows, keeps it in the session and polls its plain
attributes (segment n of N, what it is doing); a backend that fails stops the job with a one-line
:attr:`NameJob.error` and the keyword labels stay. No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence

from mgviz import naming
from mgviz.levels.macro import SegmentProfile
from ui.background import BackgroundJob


class NameJob(BackgroundJob):
    """Names for ``profiles`` from ``backend`` (:func:`mgviz.naming.make_backend`), cached in ``store``.

    ``key`` identifies what the job names (the page's model key and K), so a page shows only its own job.
    """

    thread_name = "mgviz-name"

    def __init__(self, profiles: Sequence[SegmentProfile], backend: naming.Backend, store: naming.NameStore,
                 key, seed: int = 0, force: bool = False):  # fmt: skip
        self.profiles, self.backend, self.store = list(profiles), backend, store
        self.key, self.seed, self.force = key, seed, force
        self.done, self.total, self.what = 0, len(self.profiles), "starting"
        self.names: list | None = None
        self.applied = False  #: set by the page once the names were put on the open model
        super().__init__()

    def fraction(self) -> float:
        return 1.0 if self.finished else self.done / max(self.total, 1)

    def _progress(self, i: int, n: int, what: str) -> None:
        self.done, self.total, self.what = i, n, what

    def _work(self) -> None:
        try:
            self.names = naming.name_segments(self.profiles, self.backend, self.store, seed=self.seed,
                                              force=self.force, progress=self._progress)  # fmt: skip
        except naming.NamingError as exc:
            self.error = str(exc)  # plain words: it is shown as it is
