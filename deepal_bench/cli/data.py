"""`deepal-bench-data`: list the dataset catalogue, show which datasets are present under
the data root, download those asked for (where the network allows), and check that one
loads.

    deepal-bench-data list [--root DIR]
    deepal-bench-data download mnist cifar10 [--root DIR] [key=value ...]
    deepal-bench-data check pneumoniamnist [--root DIR] [key=value ...]

Names are the `conf/dataset/*.yaml` choices (e.g. `pneumoniamnist`, `emnist split=letters`);
`key=value` pairs override keys of every named dataset. The root defaults to `$DEEPAL_DATA`, else
`./data`.
"""

import argparse
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from deepal_bench.data.catalogue import load_dataset
from deepal_bench.data.sources import SOURCES, ensure, missing_files, resolve_root
from deepal_bench.errors import ConfigError
from deepal_bench.paths import CONF_DIR


def dataset_choices() -> list[str]:
    """The selectable `dataset=` names (YAML files of conf/dataset, not `_`-prefixed)."""
    return sorted(
        p.stem for p in (CONF_DIR / "dataset").glob("*.yaml") if not p.stem.startswith("_")
    )


def dataset_options(choice: str, root: str | None, overrides: list[str]) -> dict:
    """The resolved `dataset` group of `dataset=<choice>` with `key=value` overrides, composed
    by Hydra exactly as `deepal-bench dataset=<choice>` composes it."""
    if choice not in dataset_choices():
        raise ConfigError(
            f"Unknown dataset '{choice}'. Valid choices: {', '.join(dataset_choices())}."
        )
    extra = [f"++dataset.{item}" for item in overrides]
    if root:
        extra.append(f"++dataset.root={root}")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"dataset={choice}", *extra])
    return OmegaConf.to_container(cfg.dataset, resolve=True)


def status(choice: str, root: str | None, overrides: list[str] = ()) -> tuple[str, str]:
    """(`present` | `missing` | `bundled`, where the files are or are expected)."""
    options = dataset_options(choice, root, list(overrides))
    source = SOURCES.get(options["name"])
    if source is None:
        return "bundled", "scikit-learn"
    base = resolve_root(options.get("root"))
    missing = missing_files(options["name"], base, options)
    files = source.files(options)
    where = str(base / files[0]) if len(files) == 1 else str(base / Path(files[0]).parts[0])
    return ("missing" if missing else "present"), where


def _list(args: argparse.Namespace) -> int:
    rows = [(c, *status(c, args.root)) for c in dataset_choices()]
    width = max(len(c) for c, _, _ in rows)
    print(f"data root: {resolve_root(args.root).resolve()}")
    for choice, state, where in rows:
        print(f"{choice:<{width}}  {state:<8} {where}")
    return 0


def _download(args: argparse.Namespace) -> int:
    failed = 0
    for choice in args.names:
        try:
            options = dataset_options(choice, args.root, args.overrides)
            name = options["name"]
            if name not in SOURCES:
                print(f"{choice}: bundled with scikit-learn, nothing to download")
                continue
            path = ensure(name, options.get("root"), True, options)
            print(f"{choice}: present under {path.resolve()}")
        except ConfigError as err:
            failed += 1
            print(f"{choice}: {err}", file=sys.stderr)
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    for choice in args.names:
        data = load_dataset(dataset_options(choice, args.root, args.overrides))
        val = "" if data.x_val is None else f", val {len(data.y_val)}"
        print(
            f"{choice}: train {tuple(data.x_train.shape)}, test {tuple(data.x_test.shape)}"
            f"{val}, {data.num_classes} classes"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point (`deepal-bench-data`)."""
    parser = argparse.ArgumentParser(prog="deepal-bench-data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("list", "list the datasets and whether their files are present"),
        ("download", "download the named datasets into the root"),
        ("check", "load the named datasets and print their sizes"),
    ):
        p = sub.add_parser(command, help=text)
        p.add_argument(
            "--root", default=None, help="data root (default: $DEEPAL_DATA, else ./data)"
        )
        if command != "list":
            p.add_argument("names", nargs="+", metavar="NAME")
    args, rest = parser.parse_known_args(argv)
    words = getattr(args, "names", []) + rest
    args.overrides = [w for w in words if "=" in w]
    args.names = [w for w in words if "=" not in w]
    if args.command == "list" and words:
        parser.error(f"unrecognized arguments: {' '.join(words)}")
    if args.command != "list" and not args.names:
        parser.error("name at least one dataset")
    try:
        return {"list": _list, "download": _download, "check": _check}[args.command](args)
    except ConfigError as err:
        print(f"deepal-bench-data: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
