"""Offline evaluation of the fused recommender: splits, metrics, baselines and weight tuning.

Typical use (levels fit on ``train`` only)::

    train_df, test_df = split(ds.interactions, "temporal", 0.2)
    train, test = ds.matrix(train_df), ds.matrix(test_df)
    rows = np.flatnonzero(np.diff(test.indptr) > 0)             # evaluated users
    lists = top_n(fuse(model.scores(rows), weights), 20, exclude=train[rows])
    ranking_metrics(lists, test, ks=(10, 20))
"""

from mgviz.evaluation.baselines import BASELINES, ease, item_knn, most_popular
from mgviz.evaluation.metrics import (
    ACCURACY_METRICS,
    average_popularity,
    beyond_accuracy,
    by_group,
    category_matrix,
    coverage,
    gini,
    hit_matrix,
    intra_list_diversity,
    item_popularity,
    novelty,
    per_user_metrics,
    personalisation,
    ranking_metrics,
    recommendation_gini,
)
from mgviz.evaluation.splits import (
    METHODS,
    describe_split,
    global_temporal_split,
    leave_last_one_out,
    random_split,
    split,
    temporal_user_split,
)
from mgviz.evaluation.tuning import choose_weights_grid, learn_weights_stacking, simplex_grid, weight_surface

__all__ = [
    "ACCURACY_METRICS",
    "BASELINES",
    "METHODS",
    "average_popularity",
    "beyond_accuracy",
    "by_group",
    "category_matrix",
    "choose_weights_grid",
    "coverage",
    "describe_split",
    "ease",
    "gini",
    "global_temporal_split",
    "hit_matrix",
    "intra_list_diversity",
    "item_knn",
    "item_popularity",
    "learn_weights_stacking",
    "leave_last_one_out",
    "most_popular",
    "novelty",
    "per_user_metrics",
    "personalisation",
    "random_split",
    "ranking_metrics",
    "recommendation_gini",
    "simplex_grid",
    "split",
    "temporal_user_split",
    "weight_surface",
]
