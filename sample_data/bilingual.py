"""A bilingual shop: the same topics described in Chinese and in English, each language's users buying in it.

Generator of test data for the multilingual text encoders (issue 12). The shop sells six topics;
every topic has items written in English and items written in Simplified Chinese, and the item
table has **no category column**. Each user reads one language and buys within one topic, in
that language (plus a little from other topics, in the same language). So nothing in the log
links an English user to a Chinese user of the same topic: only the meaning of the item texts
does. A model whose segments follow the topic (ARI against ``topic`` in ``ground_truth``) reads
both languages; one whose segments follow ``language`` does not.

Deterministic for a seed (``numpy.random.default_rng``), no clock, no floats written.

Usage::

    python sample_data/bilingual.py --out /tmp/bilingual      # interactions.csv, items.csv, ground_truth.csv
    from bilingual import generate; tables = generate(seed=0)  # the same as DataFrames
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

# topic: (English words, the same words in Chinese, English templates, Chinese templates)
TOPICS = {
    "space": (
        ["starship", "galaxy", "astronaut", "rocket", "planet", "telescope", "nebula", "orbit"],
        ["星舰", "银河", "宇航员", "火箭", "行星", "望远镜", "星云", "轨道"],
    ),
    "cooking": (
        ["recipe", "noodles", "dumplings", "kitchen", "spices", "soup", "baking", "chef"],
        ["菜谱", "面条", "饺子", "厨房", "香料", "汤", "烘焙", "厨师"],
    ),
    "gardening": (
        ["garden", "roses", "seeds", "soil", "orchids", "compost", "watering", "flowers"],
        ["花园", "玫瑰", "种子", "土壤", "兰花", "堆肥", "浇水", "鲜花"],
    ),
    "football": (
        ["football", "goal", "striker", "stadium", "league", "match", "coach", "team"],
        ["足球", "进球", "前锋", "球场", "联赛", "比赛", "教练", "球队"],
    ),
    "music": (
        ["piano", "guitar", "concert", "melody", "orchestra", "songs", "violin", "album"],
        ["钢琴", "吉他", "音乐会", "旋律", "管弦乐", "歌曲", "小提琴", "专辑"],
    ),
    "health": (
        ["fitness", "running", "yoga", "sleep", "diet", "muscles", "workout", "vitamins"],
        ["健身", "跑步", "瑜伽", "睡眠", "饮食", "肌肉", "锻炼", "维生素"],
    ),
}
EN_TITLES = [
    "The {a} and the {b}",
    "{a} handbook",
    "A guide to {a} and {b}",
    "Everything about {a}",
    "{a}: {b} stories",
]
EN_TEXTS = [
    "A book about {a}, {b} and {c}.",
    "Learn about {a} and {b}; with a chapter on {c}.",
    "Stories of {a}, {b} and {c} for every reader.",
]
ZH_TITLES = ["{a}与{b}", "{a}手册", "{a}和{b}入门", "关于{a}的一切", "{a}：{b}故事"]
ZH_TEXTS = ["一本关于{a}、{b}和{c}的书。", "了解{a}和{b}，还有一章讲{c}。", "讲述{a}、{b}与{c}的故事，适合每一位读者。"]
LANGUAGES = ("en", "zh")


def generate(
    seed: int = 0, users_per_group: int = 25, items_per_group: int = 15, per_user: int = 14, off_topic: float = 0.15
) -> dict[str, pd.DataFrame]:
    """The tables ``interactions`` (user_id, item_id, rating, timestamp), ``items`` (item_id, title,
    description: no categories) and ``ground_truth`` (user_id, language, topic); one group of users
    and one of items per (topic, language)."""
    rng = np.random.default_rng(seed)
    items, by_group = [], {}
    for topic, words in TOPICS.items():
        for lang, vocab, titles, texts in (
            ("en", words[0], EN_TITLES, EN_TEXTS),
            ("zh", words[1], ZH_TITLES, ZH_TEXTS),
        ):
            ids = []
            for _ in range(items_per_group):
                a, b, c = rng.choice(vocab, 3, replace=False)
                title = titles[int(rng.integers(len(titles)))].format(a=a, b=b)
                text = texts[int(rng.integers(len(texts)))].format(a=a, b=b, c=c)
                item_id = f"i{len(items) + 1:04d}"
                items.append({"item_id": item_id, "title": title[0].upper() + title[1:], "description": text})
                ids.append(item_id)
            by_group[(topic, lang)] = ids
    rows, truth = [], []
    start = np.datetime64("2025-01-01T00:00:00")
    groups = [(topic, lang) for topic in TOPICS for lang in LANGUAGES]
    order = rng.permutation(len(groups) * users_per_group)  # user ids do not give the group away
    for n, slot in enumerate(order):
        topic, lang = groups[slot // users_per_group]
        user_id = f"u{n + 1:04d}"
        truth.append({"user_id": user_id, "language": lang, "topic": topic})
        own = by_group[(topic, lang)]
        others = [i for (t, g), ids in by_group.items() if g == lang and t != topic for i in ids]
        n_off = int(rng.binomial(per_user, off_topic))
        bought = list(rng.choice(own, per_user - n_off, replace=False)) + list(rng.choice(others, n_off, replace=False))
        days = np.sort(rng.integers(0, 360, len(bought)))
        for item, day in zip(bought, days, strict=True):
            liked = item in own
            rows.append({"user_id": user_id, "item_id": item,
                         "rating": int(rng.integers(4, 6)) if liked else int(rng.integers(1, 4)),
                         "timestamp": str(start + np.timedelta64(int(day), "D") + np.timedelta64(int(n), "m"))})  # fmt: skip
    interactions = pd.DataFrame(rows).sort_values(["user_id", "timestamp", "item_id"], ignore_index=True)
    ground_truth = pd.DataFrame(truth).sort_values("user_id", ignore_index=True)
    return {"interactions": interactions, "items": pd.DataFrame(items), "ground_truth": ground_truth}


def write(out_dir, seed: int = 0) -> dict[str, Path]:
    """:func:`generate` written as UTF-8 CSV files into ``out_dir``; returns their paths by table name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in generate(seed).items():
        paths[name] = out / f"{name}.csv"
        frame.to_csv(paths[name], index=False, lineterminator="\n")
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write the CSV files into")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in write(args.out, args.seed).values():
        print(path)
