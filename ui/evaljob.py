"""Held-out evaluation run in a background thread, so pages stay responsive while it fits.

:class:`EvalJob` wraps ``mgviz.evaluation.report.EvalContext``: it fits the levels on
a training split (plus a validation split for auto-tuning), then computes the
baselines and the NDCG surface once. After that, :meth:`EvalJob.metrics` for a
new set of weights (and MMR diversity λ) only fuses, ranks (re-ranks) and scores,
and is memoised per setting.
No Streamlit here: the thread only updates plain attributes the pages poll.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict

import pandas as pd

from ui.background import BackgroundJob

#: Metrics shown in the panel: (key in metrics_for's result, label). "diversity" falls back to ILD.
PANEL_METRICS = (
    ("ndcg", "NDCG@10"),
    ("recall", "Recall@10"),
    ("coverage", "Coverage"),
    ("diversity", "Diversity (ILD)"),
    ("novelty", "Novelty"),
)
_ALIASES = {"diversity": ("diversity", "ild_category", "ild_embedding")}
#: A file an evaluation waits for before it starts. Only the browser tests set it: they need the
#: metrics to arrive while the page is open – at a moment they choose, however loaded the machine is –
#: and the tiny test data is evaluated in a second or two.
HOLD_ENV = "MGVIZ_EVAL_RELEASE_FILE"
#: Roughly how many stage steps an evaluation reports: two fast builds (about nine stages each),
#: then the baselines and the weight surface. Only used to draw a progress bar.
EXPECTED_STEPS = 20


def panel_value(metrics: dict, key: str) -> float | None:
    """Value of a panel metric, looking through aliases and ``@10`` suffixes."""
    for name in _ALIASES.get(key, (key,)):
        for candidate in (name, f"{name}@10"):
            if candidate in metrics and metrics[candidate] is not None:
                return float(metrics[candidate])
    return None


def panel_row(metrics: dict) -> dict[str, float]:
    """The panel metrics of one method, keyed like :data:`PANEL_METRICS`."""
    return {key: v for key, _ in PANEL_METRICS if (v := panel_value(metrics, key)) is not None}


def context_factory():
    """``EvalContext.from_dataset`` – or ``None`` when the evaluation module is not available."""
    try:
        from mgviz.evaluation.report import APP_EVAL_USERS, EvalContext
    except ImportError:
        return None
    return functools.partial(EvalContext.from_dataset, max_users=APP_EVAL_USERS)


class EvalJob(BackgroundJob):
    """One evaluation of one model's data and settings, running in a daemon thread.

    Parameters
    ----------
    dataset, config :
        What the model was built from; the levels are refit on a training split.
    encoder :
        Text encoder (shared with the app, so its cache is reused).
    factory : callable, optional
        ``factory(dataset, config, encoder=..., progress=...)`` returning an eval context;
        default :func:`context_factory`.
    """

    thread_name = "mgviz-eval"

    def __init__(self, dataset, config, encoder, factory=None, max_memo: int = 512):
        self.dataset, self.config, self.encoder = dataset, config, encoder
        self.factory = factory or context_factory()
        self.stage, self.done, self.total = "waiting to start", 0, 1
        self._steps: list[str] = []
        self.ctx = None
        self.surface: pd.DataFrame | None = None
        self.baselines: dict[str, dict] = {}
        self._memo: OrderedDict = OrderedDict()
        self._max_memo = max_memo
        self._lock = threading.Lock()
        super().__init__()

    # ------------------------------------------------------------------ life cycle
    def start(self) -> EvalJob:
        if self.factory is None:
            self.error = "evaluation not available (mgviz.evaluation.report could not be imported)"
            self.finished_at = time.time()
            return self
        return super().start()

    @property
    def ready(self) -> bool:
        return self.finished and self.error is None and self.ctx is not None

    @property
    def tuned(self) -> bool:
        """Whether the evaluation tuned weights on a validation split (not the Spark engine's: it is evaluated
        with fixed weights, so there is nothing for *Auto-tune* to apply)."""
        return self.ready and bool(getattr(self.ctx, "tuned", None))

    @property
    def fraction(self) -> float:
        """Approximate share of the work done (for a progress bar)."""
        if self.finished:
            return 1.0
        within = self.done / self.total if self.total else 0.0
        return min(0.99, (len(self._steps) + within) / EXPECTED_STEPS)

    def _progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage and self.stage != "waiting to start":
            self._steps.append(self.stage)
        self.stage, self.done, self.total = stage, done, max(total, 1)

    def _work(self) -> None:
        release = os.environ.get(HOLD_ENV)
        if release:  # tests of the page while an evaluation runs (see HOLD_ENV)
            self._progress("held back before starting", 0, 1)
            while not os.path.exists(release):
                time.sleep(0.1)
        ctx = self.factory(self.dataset, self.config, encoder=self.encoder, progress=self._progress)
        self._progress("baselines", 0, 1)
        self.baselines = {name: dict(m) for name, m in ctx.baselines.items()}
        self._progress("weight surface", 0, 1)
        self.surface = ctx.surface(k=10, step=0.1)
        self.ctx = ctx
        self._progress("done", 1, 1)

    # ------------------------------------------------------------------ queries
    def metrics(self, weights: dict[str, float], diversity: float = 0.0, similarity: str = "categories") -> dict:
        """Held-out metrics of the fused lists for ``weights``, MMR re-ranked with λ = ``diversity``
        over item ``similarity`` when it is above 0 (memoised)."""
        if not self.ready:
            raise RuntimeError("the evaluation has not finished")
        diversity = round(float(diversity), 4)
        key = (tuple(sorted((lv, round(float(w), 4)) for lv, w in weights.items())),
               (diversity, similarity) if diversity > 0 else None)  # fmt: skip
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        rerank = {"diversity": diversity, "similarity": similarity} if diversity > 0 else {}
        value = self.ctx.metrics_for(dict(weights), k=10, quick=True, **rerank)
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self._max_memo:
                self._memo.popitem(last=False)
        return value

    def auto_weights(self) -> dict[str, float]:
        """Weights chosen on the validation split (never on test)."""
        if not self.ready:
            raise RuntimeError("the evaluation has not finished")
        return dict(self.ctx.auto_weights())
