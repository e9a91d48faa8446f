"""Check that a benchmark MovieLens set fetches and loads through ``mgviz.io`` as expected (no build).

Usage: python benchmarks/check_movielens.py [ml-100k|ml-1m ...]   (default: ml-1m)

Prints what was loaded and exits non-zero when a shape, a column or the model-size estimate is off.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: name -> (interactions, users, items rated, items in the catalogue), as published by GroupLens.
EXPECTED = {
    "ml-100k": (100_000, 943, 1_682, 1_682),
    "ml-1m": (1_000_209, 6_040, 3_706, 3_883),
}


def check(name: str) -> list[str]:
    """Problems found with data set ``name`` (empty when it loads as expected)."""
    from data import inputs

    from mgviz import limits
    from mgviz.io import load_dataset

    t = time.perf_counter()
    paths = inputs(name)
    fetch_s = time.perf_counter() - t
    t = time.perf_counter()
    dataset, report = load_dataset(*paths)
    load_s = time.perf_counter() - t
    inter, items, users = dataset.interactions, dataset.items, dataset.users
    n_inter, n_users, n_rated, n_catalogue = EXPECTED[name]
    print(f"{name}: fetched in {fetch_s:.1f} s, loaded in {load_s:.1f} s")
    print(f"  {len(inter):,} interactions, {len(users):,} users, {len(items):,} items "
          f"({inter['item_id'].nunique():,} rated); rating {dataset.has_rating}, time {dataset.has_time}")  # fmt: skip
    print(f"  demographics: {dataset.demographic_cols}; warnings: {[p.message for p in report.warnings]}")
    print(f"  item: {items.iloc[0][['item_id', 'title', 'categories']].to_dict()}")
    print(f"  user: {users.iloc[0].to_dict()}")
    print(f"  interaction: {inter.iloc[0].to_dict()}")
    problems = []
    shape = (len(inter), len(users), inter["item_id"].nunique(), len(items))
    if shape != EXPECTED[name]:
        problems.append(f"shape {shape} should be {EXPECTED[name]}")
    if not (dataset.has_rating and dataset.has_time):
        problems.append("ratings or timestamps not detected")
    if not inter["rating"].between(1, 5).all():
        problems.append("ratings outside 1–5")
    if (items["categories"].str.len() == 0).mean() > 0.01 or (items["title"] == "").any():
        problems.append("items without genres or titles")
    if not {"age", "gender", "occupation"} <= set(dataset.demographic_cols):
        problems.append(f"demographics {dataset.demographic_cols} lack age / gender / occupation")
    if report.warnings:
        problems.append(f"{len(report.warnings)} loader warnings")
    need = limits.estimate_model_bytes(n_users, n_catalogue, n_inter)
    print(f"  model estimate {need / 2**30:.2f} GiB of the {limits.model_budget_bytes() / 2**30:g} GiB budget")
    if need > limits.model_budget_bytes():
        problems.append("a build would be refused by mgviz.limits")
    return problems


def main() -> None:
    problems = {name: check(name) for name in sys.argv[1:] or ["ml-1m"]}
    bad = {name: found for name, found in problems.items() if found}
    for name, found in bad.items():
        print(f"{name}: " + "; ".join(found))
    print("ok" if not bad else "FAILED")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
