"""Labels of cells, rendered from their keys (`results.cells.CellKey`) at output.

A setting label is `dataset/model/initial+quota/batch/estimator-selection` (or the values
of the `--group-by` keys joined by `/`); settings that share a label but differ in other
keys get those keys appended, `digits/lenet/10+20/10/imle-topk [trainer.epochs=5]`, and a
note says their runs are not averaged together. A strategy label is its name, with the
options that tell it apart from other cells of the same name in the same setting appended
(`bald [strategy.mc_passes=20]`). Labels identify cells in the tables; nothing parses them.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from deepal_bench.data.sizes import variant_name
from deepal_bench.results.cells import CellKey
from deepal_bench.results.provenance import code_version_text
from deepal_bench.results.records import Cell

MIXED_VERSIONS = "†"


def default_setting(key: CellKey) -> str:
    b = key.budget
    return (
        f"{key.dataset.name}/{key.model.name}/{b.initial}+{b.quota}/{b.batch}/"
        f"{key.estimator}-{key.selection}"
    )


def _grouped_setting(cell: Cell, group_by: tuple[str, ...]) -> str:
    settings = {**cell.settings, **cell.key.setting()}
    return "/".join(str(settings.get(key)) for key in group_by)


def differing_settings(settings: list[dict]) -> list[str]:
    """Keys whose value (or presence) differs between the mappings."""
    keys = {k for s in settings for k in s}
    return sorted(k for k in keys if len({repr(s.get(k, "absent")) for s in settings}) > 1)


def settings_suffix(settings: dict, keys: list[str]) -> str:
    return f" [{', '.join(f'{k}={settings.get(k)}' for k in keys)}]" if keys else ""


@dataclass
class Labels:
    """Setting and strategy label per cell key, and notes on runs kept apart."""

    setting: dict[CellKey, str] = field(default_factory=dict)
    strategy: dict[CellKey, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _name_settings(self, keys: list[CellKey], base: str) -> None:
        distinct = list({repr(k.setting()): k.setting() for k in keys}.values())
        differing = differing_settings(distinct)
        for key in keys:
            self.setting[key] = base + settings_suffix(key.setting(), differing)
        if len(distinct) > 1:
            self.notes.append(
                f"{base}: {len(distinct)} configs differ in "
                f"{', '.join(differing)}; their runs are not averaged together"
            )

    def _name_strategies(self, keys: list[CellKey], setting: str, name: str) -> None:
        options = [k.strategy_settings() for k in keys]
        differing = differing_settings(options)
        for key, settings in zip(keys, options, strict=True):
            self.strategy[key] = name + settings_suffix(settings, differing)
        if len(keys) > 1:
            self.notes.append(
                f"{setting}: {name}: {len(keys)} configs differ in "
                f"{', '.join(differing)}; their runs are not averaged together"
            )


def label_cells(cells: list[Cell], group_by: tuple[str, ...] | None = None) -> Labels:
    """Unique (setting, strategy) labels for `cells`."""
    labels = Labels()
    by_base: dict[str, list[CellKey]] = defaultdict(list)
    for cell in cells:
        base = _grouped_setting(cell, group_by) if group_by else default_setting(cell.key)
        by_base[base].append(cell.key)
    for base, keys in sorted(by_base.items()):
        labels._name_settings(keys, base)
    by_strategy: dict[tuple[str, str], list[CellKey]] = defaultdict(list)
    for cell in cells:
        by_strategy[(labels.setting[cell.key], cell.key.strategy.name)].append(cell.key)
    for (setting, name), keys in sorted(by_strategy.items()):
        labels._name_strategies(keys, setting, name)
    return labels


def mixed_version_notes(cells: list[Cell], labels: Labels) -> dict[tuple[str, str], str]:
    """Per (setting, strategy) label of a cell that pools runs of different code versions
    (distinct package and git commit), the note that says which."""
    notes = {}
    for cell in cells:
        if len(cell.code_versions) > 1:
            versions = ", ".join(sorted(map(code_version_text, cell.code_versions)))
            label = (labels.setting[cell.key], labels.strategy[cell.key])
            notes[label] = (
                f"{MIXED_VERSIONS} {label[0]}, {label[1]}: pools runs made by "
                f"{len(cell.code_versions)} code versions ({versions})"
            )
    return notes


def dataset_variant(settings: dict[str, object]) -> str:
    """The dataset's catalogue name, or the variant its descriptor names for its options
    (MedMNIST by flag, OpenML by id: `data.sizes.variant_name`)."""
    options = {
        key.removeprefix("dataset."): value
        for key, value in settings.items()
        if key.startswith("dataset.") and key != "dataset.name"
    }
    return variant_name(str(settings.get("dataset.name")), options)


def dataset_display_name(settings: dict[str, object]) -> str:
    """The dataset as the papers name it: its variant (`dataset_variant`), RepeatedMNIST by
    its redundancy (share of duplicated images, FALCUN §4)."""
    name = dataset_variant(settings)
    share = redundancy_share(settings)
    return f"repeated{name}-{share}" if share is not None else name


def redundancy_share(settings: dict[str, object]) -> int | None:
    """RepeatedMNIST's share (%) of duplicated images, from `dataset.redundancy`."""
    redundancy = settings.get("dataset.redundancy")
    if redundancy is None:
        return None
    keep = redundancy.get("keep") if isinstance(redundancy, dict) else redundancy
    return round(100 * (1 - float(keep)))


def model_label(settings: dict[str, object]) -> str:
    """Model name, with `pretrained` where the config says so."""
    name = str(settings.get("model.name"))
    return f"{name} pretrained" if settings.get("model.pretrained") else name
