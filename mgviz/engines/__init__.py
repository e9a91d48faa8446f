"""Where a build's steps run.

:func:`mgviz.pipeline.build` runs the named steps of :data:`mgviz.pipeline.STEPS` on a working state
(``_Build``). An :class:`Engine` may run some of them its own way – :meth:`Engine.stages` maps a step's
name to a function of that state – and says afterwards where each step ran (:meth:`Engine.describe`,
kept in the run's manifest as ``engine``). Whatever runs where, the steps put the same things into the
state: the levels are the same classes (:mod:`mgviz.levels`), saved and loaded the same way, so a run is
opened, scored and folded into without knowing its engine.

:class:`Engine` itself is the local engine (every step in this process); :mod:`mgviz.engines.spark`
is the Spark engine. :func:`engine_for` makes the engine an :class:`mgviz.config.EngineConfig` names.
"""

from __future__ import annotations

from collections.abc import Callable

from mgviz.config import EngineConfig


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (a package or Java is missing); the message says what to install."""


class Engine:
    """The local engine: every step runs in this process (numpy, scipy, implicit, scikit-learn)."""

    name = "local"

    def stages(self) -> dict[str, Callable]:
        """Step name → function of the build state, for the steps this engine runs its own way."""
        return {}

    def finish(self, build) -> None:
        """Called once the steps are done (or one failed): free what the engine held for the build."""

    def describe(self, steps: list[str]) -> dict:
        """What the manifest records: the engine and where each of ``steps`` ran."""
        return {"name": self.name, "stages": {step: "local" for step in steps}}


def engine_for(config: EngineConfig | None) -> Engine:
    """The engine ``config`` asks for (the Spark one starts its session on first use)."""
    if config is None or config.engine == "local":
        return Engine()
    from mgviz.engines.spark import SparkEngine

    return SparkEngine.from_config(config)
