"""mgviz – multi-granularity user-interest modelling for recommender systems.

Data flows one way: read & validate (:mod:`mgviz.io`) → embed text
(:mod:`mgviz.encoder`) → levels (:mod:`mgviz.levels`: macro, meso, micro,
semantic) → fuse (:mod:`mgviz.fusion`) → evaluate / explain / plot / export.
"""

__version__ = "0.1.0"
