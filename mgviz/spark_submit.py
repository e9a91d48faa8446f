"""``spark-submit`` entry point: ``mgviz build`` on the Spark engine, with the master and settings of the submit.

    spark-submit --master yarn --deploy-mode client --driver-memory 8g \\
        "$(python -m mgviz.spark_submit --path)" build --interactions hdfs:///logs/2026-11/ --out runs/nov

Everything after the script is ``mgviz build``'s arguments; ``--engine spark`` is implied. The master, the
executors and every ``--conf`` come from spark-submit (mgviz does not set a master unless ``--master`` is
given here too). The driver must have mgviz installed (this file imports it); the executors need the same
Python with mgviz's requirements (``PYSPARK_PYTHON`` / ``spark.pyspark.python``), see ``docs/spark.md``.
``python -m mgviz.spark_submit --path`` prints this file's path.
"""

import sys
from pathlib import Path

# Run as a script, this file's folder (mgviz/) comes first on sys.path, where mgviz's io.py, text.py …
# would shadow the standard library's and other packages' modules: take it off before anything else.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--path"]:
        print(Path(__file__).resolve())
        return 0
    if args[:1] != ["build"]:
        print("error: mgviz's spark-submit entry point runs `build`: spark-submit … spark_submit.py build "
              "--interactions PATH --out DIR [mgviz build options]", file=sys.stderr)  # fmt: skip
        return 2
    if "--engine" not in args:
        args[1:1] = ["--engine", "spark"]
    from mgviz.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
