"""`python -m scripts.reference`: the reference-equivalence suite (docs/fidelity.md).

    export  --suite S --out DIR                       write the suite's data file
    theirs  --suite S --checkout PATH --strategies a,b --seeds 20 [--first-seed K] --out DIR
    ours    --suite S --strategies a,b --seeds 20 --out DIR [--set key=value ...]
    collect --suite S --out DIR                       our curves of stopped runs too
    compare --suite S --out DIR --dest DIR [--pair ours_tag:theirs_tag ...]

Bad input (an unknown suite or strategy, a folder that is not the authors' checkout, a
package their code needs) ends with one paragraph naming it (exit status 2).
"""

import argparse
import sys
from pathlib import Path

from deepal_bench.errors import ConfigError, unknown_choice
from scripts.reference import data
from scripts.reference.suites import SUITES, Suite


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.reference", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("command", choices=("export", "theirs", "ours", "collect", "compare"))
    p.add_argument("--suite", required=True, help=f"one of {', '.join(SUITES)}")
    p.add_argument("--out", type=Path, default=Path("results/reference/runs"))
    p.add_argument("--checkout", help="folder of a clone of the authors' repository")
    p.add_argument("--strategies", default="", help="comma-separated (ours' names)")
    p.add_argument("--seeds", type=int, default=20, help="seeds 0 .. n-1")
    p.add_argument("--first-seed", type=int, default=0,
                   help="theirs: start here, keeping the earlier seeds' curves")  # fmt: skip
    p.add_argument("--set", action="append", default=[], help="extra override of ours")
    p.add_argument("--ours-code", type=Path, help="ours: run the CLI of this checkout instead")
    p.add_argument("--dest", type=Path, help="compare: where the tables and figure go")
    p.add_argument("--pair", action="append", default=[], help="compare: ours_tag:theirs_tag")
    return p


def _suite(name: str) -> Suite:
    if name not in SUITES:
        raise unknown_choice("--suite", name, tuple(SUITES))
    return SUITES[name]


def _strategies(suite: Suite, names: str) -> list[str]:
    chosen = [s for s in names.split(",") if s] or list(suite.strategies)
    for s in chosen:
        if s not in suite.strategies:
            raise unknown_choice("--strategies", s, tuple(suite.strategies))
    return chosen


def data_file(out: Path, suite: Suite) -> Path:
    """The suite's data file under `out` (written on first use)."""
    path = Path(out) / suite.name / "data.npz"
    return path if path.exists() else data.write(suite.make_data(), path)


def _theirs(args, suite: Suite, strategies: list[str]) -> None:
    if not args.checkout:
        raise ConfigError("theirs needs --checkout <folder of the authors' repository>.")
    from scripts.reference import adapters

    for s in strategies:
        try:
            adapters.run(suite, args.checkout, s, data_file(args.out, suite), args.seeds, args.out,
                         args.first_seed)  # fmt: skip
        except ConfigError:
            raise
        except Exception as exc:  # their code failed: record it, go on with the next one
            adapters.record_failure(args.out, suite, s, exc)


def _ours(args, suite: Suite, strategies: list[str]) -> None:
    from scripts.reference.ours import OurRunFailed, run_ours

    for s in strategies:
        try:
            run_ours(
                suite, s, data_file(args.out, suite), args.seeds, args.out, args.set, args.ours_code
            )
        except OurRunFailed as exc:  # refused by our CLI: record it, go on with the next one
            path = Path(args.out) / suite.name / "ours" / f"{s}.failed"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{exc}\n")
            print(f"reference: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        suite = _suite(args.suite)
        if args.command == "export":
            print(data_file(args.out, suite))
        elif args.command == "theirs":
            _theirs(args, suite, _strategies(suite, args.strategies))
        elif args.command == "collect":
            from scripts.reference.ours import collect

            print("\n".join(str(p) for p in collect(args.out, suite)))
        elif args.command == "ours":
            _ours(args, suite, _strategies(suite, args.strategies))
        else:
            from scripts.reference.compare import compare_suite

            pairs = [tuple(p.split(":", 1)) for p in args.pair] or [
                (s, s) for s in _strategies(suite, args.strategies)
            ]
            print(compare_suite(args.out, suite.name, pairs, args.dest or args.out / suite.name))
    except ConfigError as err:
        print(f"reference: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
