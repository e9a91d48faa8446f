"""LLM-written segment names: the offline SmolLM2-135M-Instruct on the sample run, the Chinese sample and
MovieLens-1M (K = 6) – load time, seconds per segment, attempts, how many names pass the checks, the names.

Runs: the English sample (``runs/sample``, ``make sample-run``), the Chinese sample (built here with K = 6,
seed 0, into ``benchmarks/data/runs/zh-k6``) and ML-1M (``benchmarks/data/runs/ml-1m-k6``, written by
``benchmarks/segment_labels.py``). Nothing is read from or written to a run's ``names.json``: every name is
written anew, in memory.

Usage: python benchmarks/naming.py [--json OUT] [--doc] [--only sample,zh,ml-1m]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

RUNS = {"sample": ROOT / "runs" / "sample", "zh": HERE / "data" / "runs" / "zh-k6",
        "ml-1m": HERE / "data" / "runs" / "ml-1m-k6"}  # fmt: skip
TITLES = {"sample": "English sample (1,500 users)", "zh": "Chinese sample", "ml-1m": "MovieLens-1M"}


class Counting:
    """A backend wrapper that counts the answers asked for."""

    def __init__(self, backend):
        self.backend, self.calls = backend, 0
        self.label = backend.label

    def prepare(self) -> float:
        return self.backend.prepare()

    def complete(self, messages, attempt, seed):
        self.calls += 1
        return self.backend.complete(messages, attempt, seed)

    def describe(self) -> dict:
        return self.backend.describe()


def zh_run() -> Path:
    from mgviz.io import load_dataset
    from mgviz.pipeline import BuildConfig, build
    from mgviz.runs import save_run

    if not (RUNS["zh"] / "manifest.json").exists():
        zh = ROOT / "sample_data" / "zh"
        dataset, _ = load_dataset(zh / "interactions.csv", zh / "items.csv", zh / "users.csv")
        save_run(build(dataset, BuildConfig(k=6, seed=0, umap=False)), RUNS["zh"])
    return RUNS["zh"]


def name_run(key: str, backend) -> dict:
    from mgviz import naming
    from mgviz.runs import load_run

    run = zh_run() if key == "zh" else RUNS[key]
    if not (run / "manifest.json").exists():
        raise SystemExit(f"{run} is missing: " + ("make sample-run" if key == "sample" else
                                                  "python benchmarks/segment_labels.py"))  # fmt: skip
    model = load_run(run, interactions=False)
    counting = Counting(backend)
    t = time.perf_counter()
    names = naming.name_segments(model.profiles, counting, None, seed=0)
    seconds = time.perf_counter() - t - getattr(counting, "load_seconds", 0.0)
    rows = [{"segment": p.segment, "label": p.label, "ok": n.ok, "name": n.name, "description": n.description,
             "reason": n.reason, "seconds": n.seconds} for p, n in zip(model.profiles, names, strict=True)]  # fmt: skip
    return {"run": key, "segments": len(names), "named": sum(n.ok for n in names), "answers": counting.calls,
            "seconds": round(seconds, 1), "per_segment": round(seconds / max(len(names), 1), 1), "rows": rows}  # fmt: skip


def write_doc(result: dict) -> None:
    from docs_section import write_section

    lines = [
        f"Offline model: {result['model']}, greedy first answer, then up to three sampled retries (seeded), every "
        "answer checked (`mgviz.naming.check_answer`: the name must mention a distinctive category or keyword of "
        "the segment and must not be an item title or another segment's name; the description one to three "
        f"sentences). {result['machine']}; `python benchmarks/naming.py --doc`. Model load (GGUF de-quantised by "
        f"transformers, once per process): **{result['load_seconds']:.0f} s**.",
        "",
        "| run | segments | named | answers asked | seconds per segment |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {TITLES[r['run']]} | {r['segments']} | {r['named']} | {r['answers']} | {r['per_segment']:.1f} |"
              for r in result["runs"]]  # fmt: skip
    for r in result["runs"]:
        lines += ["", f"**{TITLES[r['run']]}**", "", "| segment | keyword label | model-written name (or why not) |",
                  "|---|---|---|"]  # fmt: skip
        for row in r["rows"]:
            said = f"**{row['name']}** – {row['description']}" if row["ok"] else f"keeps the label: {row['reason']}"
            lines.append(f"| {row['segment']} | {row['label']} | {said.replace('|', '/')} |")
    lines += [
        "",
        "What this says: a 135M-parameter model, offline on two cores, names English segments in a few seconds "
        "each and grounds the name in the segment's words (the checks see to that), but its descriptions are "
        "fanciful – they are marked as written by a model everywhere they appear. It writes no usable Chinese: "
        "on the Chinese sample the checks refuse its answers and the keyword labels stay, with the reason on the "
        "card. On MovieLens-1M it names four of six segments; one name there is a film series' title the checks "
        "cannot know (they compare with the segment's top items only), which is why every name keeps its keyword "
        "label beside it. Teams with their own LLM server point `mgviz name --backend openai --llm-url …` (or the Macro "
        "page) at it.",
    ]
    write_section("llm-naming", "LLM segment names (time per segment)", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None)
    parser.add_argument("--doc", action="store_true")
    parser.add_argument("--only", default="sample,zh,ml-1m")
    parser.add_argument("--from-json", default=None, help="rewrite the docs section from a saved --json result")
    args = parser.parse_args()
    if args.from_json:
        write_doc(json.loads(Path(args.from_json).read_text(encoding="utf-8")))
        return
    from mgviz import naming

    backend = naming.LocalModel()
    load = backend.prepare()
    runs = []
    for key in [k.strip() for k in args.only.split(",") if k.strip()]:
        r = name_run(key, backend)
        runs.append(r)
        print(
            f"{TITLES[key]}: {r['named']}/{r['segments']} named, {r['answers']} answers, {r['per_segment']} s per segment"
        )
        for row in r["rows"]:
            print(f"  {row['segment']}: {row['name'] if row['ok'] else '(label stays) ' + row['reason']}")
    result = {"model": backend.label, "load_seconds": round(load, 1), "runs": runs,
              "machine": f"{platform.machine()}, {platform.python_version()}, 2 cores"}  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.doc:
        write_doc(result)


if __name__ == "__main__":
    main()
