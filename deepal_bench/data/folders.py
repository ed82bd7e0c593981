"""Image datasets fetched by hand and read from their official folder layouts: Tiny
ImageNet, BreakHis, Waterbirds (with object x background groups) and iNaturalist
super-classes. Images are decoded once with PIL, resized to `image_size` and kept as
tensors; `load_dataset` normalises them.
"""

import io
from pathlib import Path

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor, Sizes, Unknown, held_out, square
from deepal_bench.data.formats import read_data_bytes, read_data_json, read_images
from deepal_bench.data.sources import Source, ensure, register_source
from deepal_bench.data.splits import stratified_split
from deepal_bench.data.vision import raw_images
from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.seeding import generator
from deepal_bench.typed import PositiveInt, TestSize

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TINY = "tiny-imagenet-200"
BREAKHIS = "BreaKHis_v1/histology_slides/breast"
WATERBIRDS = "waterbirds_v1.0"
WATERBIRD_GROUPS = ["landbird_land", "landbird_water", "waterbird_land", "waterbird_water"]
VAL_MODES = ("drop", "validation", "pool")
BREAKHIS_AUGMENT = {"rotate": 90.0, "hflip": 0.8, "resized_crop": [0.08, 1.0], "jitter": [0.4] * 3}


def image_files(folder: Path) -> list[Path]:
    """Image files under `folder` (recursively), sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)


# --- Tiny ImageNet --------------------------------------------------------------------------


def _tiny_fetch(root: Path, options: dict) -> None:
    from torchvision.datasets.utils import download_and_extract_archive

    download_and_extract_archive(
        "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
        str(root),
        md5="90528d7ca1a48142e341f4ef8d21d0de",
    )


register_source(
    Source(
        "tinyimagenet",
        lambda _: [f"{TINY}/wnids.txt", f"{TINY}/train", f"{TINY}/val/val_annotations.txt"],
        "unzip tiny-imagenet-200.zip into <root> (giving <root>/tiny-imagenet-200/).",
        "http://cs231n.stanford.edu/tiny-imagenet-200.zip (Le & Yang 2015; ImageNet terms)",
        _tiny_fetch,
    )
)


def _text(path: Path) -> str:
    """A list file of a dataset folder (`formats.read_data_bytes`: a bounded regular file)."""
    return read_data_bytes(path).decode("utf-8", errors="replace")


def load_tinyimagenet(
    root: str | None = None, download: bool = False, image_size: PositiveInt = 64
) -> ALData:
    """Tiny ImageNet: 100,000 train (500 per class) / 10,000 test (the official validation
    set) 3x64x64 images, 200 classes (DeepAL+ Table 3); augmentation: rotation 20 degrees
    and horizontal flip (DeepAL+ App. D.2)."""
    path = ensure("tinyimagenet", root, download) / TINY
    wnids = _text(path / "wnids.txt").split()
    index = {w: i for i, w in enumerate(wnids)}
    train = [(p, index[w]) for w in wnids for p in image_files(path / "train" / w)]
    test = []
    for line in _text(path / "val" / "val_annotations.txt").splitlines():
        if line.strip():
            name, wnid = line.split("\t")[:2]
            test.append((path / "val" / "images" / name, index[wnid]))
    return raw_images(
        "tinyimagenet",
        read_images([p for p, _ in train], image_size, 3),
        [c for _, c in train],
        read_images([p for p, _ in test], image_size, 3),
        [c for _, c in test],
        len(wnids),
        augment={"rotate": 20.0, "hflip": 0.5},
        meta={"classes": wnids},
    )


TINYIMAGENET_DESCRIPTOR = Descriptor(
    lambda options: Sizes(square(3, options["image_size"]), 100_000, 10_000, 200)
)


# --- BreakHis -------------------------------------------------------------------------------

register_source(
    Source(
        "breakhis",
        lambda _: [f"{BREAKHIS}/benign", f"{BREAKHIS}/malignant"],
        "request and extract BreaKHis_v1.tar.gz into <root> (giving "
        "<root>/BreaKHis_v1/histology_slides/breast/{benign,malignant}/...).",
        "https://web.inf.ufpr.br/vri/databases/breast-cancer-histopathological-database-"
        "breakhis/ (Spanhol et al. 2016; CC BY 4.0 per DeepAL+ App. C)",
    )
)


def load_breakhis(
    root: str | None = None,
    image_size: PositiveInt = 224,
    magnification: int | None = None,
    test_size: TestSize = 0.3,
    split_seed: int = 0,
) -> ALData:
    """BreakHis, benign vs malignant (2 classes): 7,909 images, a seeded stratified 30% test
    split gives DeepAL+'s 5,536 train / 2,373 test (Table 3); `magnification` (40, 100, 200,
    400) keeps one zoom level. Augmentation (DeepAL+ App. D.2): rotation 90, horizontal flip
    p=0.8, random resized crop (area 0.08-1), colour jitter 0.4 (hue jitter not reproduced)."""
    path = ensure("breakhis", root, False) / BREAKHIS
    files, labels = [], []
    for label, cls in enumerate(("benign", "malignant")):
        found = image_files(path / cls)
        if magnification is not None:
            found = [p for p in found if p.parent.name.upper() == f"{int(magnification)}X"]
        files += found
        labels += [label] * len(found)
    if not files:
        raise ConfigError(
            f"dataset 'breakhis': no images under {path} (magnification={magnification})."
        )
    y = torch.tensor(labels)
    keep, test = stratified_split(y, test_size, generator(split_seed, "breakhis"))
    x = read_images(files, image_size, 3)
    return raw_images(
        "breakhis",
        x[keep],
        y[keep],
        x[test],
        y[test],
        2,
        augment=BREAKHIS_AUGMENT,
        meta={"classes": ["benign", "malignant"]},
    )


# Images per magnification (Spanhol et al. 2016, Table I: benign + malignant).
BREAKHIS_IMAGES = {40: 1_995, 100: 2_081, 200: 2_013, 400: 1_820}


def _breakhis_sizes(options: dict) -> Sizes | Unknown:
    zoom = options["magnification"]
    if zoom is not None and int(zoom) not in BREAKHIS_IMAGES:
        return Unknown(f"BreakHis has no magnification {zoom}X (40, 100, 200, 400)")
    images = sum(BREAKHIS_IMAGES.values()) if zoom is None else BREAKHIS_IMAGES[int(zoom)]
    return Sizes(square(3, options["image_size"]), *held_out(images, options["test_size"]), 2)


BREAKHIS_DESCRIPTOR = Descriptor(
    _breakhis_sizes, tuple({"magnification": zoom} for zoom in BREAKHIS_IMAGES)
)


# --- Waterbirds -----------------------------------------------------------------------------


def _waterbirds_fetch(root: Path, options: dict) -> None:
    try:
        from wilds import get_dataset
    except ImportError as err:
        raise ConfigError(
            "downloading Waterbirds needs the `wilds` package (pip install wilds)."
        ) from err
    get_dataset(dataset="waterbirds", root_dir=str(root), download=True)


register_source(
    Source(
        "waterbirds",
        lambda _: [f"{WATERBIRDS}/metadata.csv"],
        'extract the WILDS waterbirds_v1.0 archive into <root> (or run `python -c "from wilds '
        "import get_dataset; get_dataset('waterbirds', root_dir='<root>', download=True)\"`).",
        "https://github.com/p-lambda/wilds (Sagawa et al. 2020; MIT per DeepAL+ App. C)",
        _waterbirds_fetch,
    )
)


def load_waterbirds(
    root: str | None = None,
    download: bool = False,
    image_size: PositiveInt = 224,
    val: str = "drop",
) -> ALData:
    """Waterbirds (WILDS `metadata.csv`: img_filename, y, split 0/1/2, place): 4,795 train /
    5,794 test images, landbird (0) vs waterbird (1) (DeepAL+ Table 3). Test groups are
    object x background (y * 2 + place, names in `group_names`) for mismatch and
    worst-group accuracy (DeepAL+ §3.4); `val`: drop / validation / pool for the official
    1,199-image validation split. Augmentation: horizontal flip (DeepAL+ App. D.2)."""
    import pandas as pd

    if val not in VAL_MODES:
        raise unknown_choice("dataset.val", val, VAL_MODES)
    path = ensure("waterbirds", root, download) / WATERBIRDS
    meta = pd.read_csv(io.BytesIO(read_data_bytes(path / "metadata.csv")))
    missing = sorted({"img_filename", "y", "split", "place"} - set(meta.columns))
    if missing:
        raise ConfigError(f"dataset 'waterbirds': {path / 'metadata.csv'} lacks columns {missing}.")
    train_splits = (0, 1) if val == "pool" else (0,)

    def part(splits: tuple[int, ...]):
        rows = meta[meta["split"].isin(splits)]
        x = read_images([path / f for f in rows["img_filename"]], image_size, 3)
        return x, torch.tensor(rows["y"].to_numpy()), torch.tensor(rows["place"].to_numpy())

    x_train, y_train, _ = part(train_splits)
    x_test, y_test, place = part((2,))
    extra = {}
    if val == "validation":
        x_val, y_val, _ = part((1,))
        extra = {"x_val": x_val, "y_val": y_val}
    return raw_images(
        "waterbirds",
        x_train,
        y_train,
        x_test,
        y_test,
        2,
        groups_test=y_test * 2 + place,
        group_names=list(WATERBIRD_GROUPS),
        augment={"hflip": 0.5},
        mismatch_groups=("landbird_water", "waterbird_land"),
        meta={"classes": ["landbird", "waterbird"]},
        **extra,
    )


def _waterbirds_sizes(options: dict) -> Sizes:
    """WILDS v1.0 splits: 4,795 train, 1,199 validation, 5,794 test."""
    if options["val"] not in VAL_MODES:
        raise unknown_choice("dataset.val", options["val"], VAL_MODES)
    shape, val = square(3, options["image_size"]), options["val"]
    if val == "pool":
        return Sizes(shape, 4_795 + 1_199, 5_794, 2)
    return Sizes(shape, 4_795, 5_794, 2, val=1_199 if val == "validation" else 0)


WATERBIRDS_DESCRIPTOR = Descriptor(
    _waterbirds_sizes, ({"val": "drop"}, {"val": "validation"}, {"val": "pool"})
)


# --- iNaturalist ----------------------------------------------------------------------------

register_source(
    Source(
        "inaturalist",
        lambda o: [
            f"inaturalist/{o.get('train_json', 'train2018.json')}",
            f"inaturalist/{o.get('test_json', 'val2018.json')}",
        ],
        "download the iNaturalist images and the train/val annotation JSON files and extract "
        "them into <root>/inaturalist/ (file_name paths in the JSON are relative to it).",
        "https://github.com/visipedia/inat_comp (Van Horn et al. 2018; see its terms)",
    )
)


def _inat_split(folder: Path, annotation: str, level: str, cap: int | None, seed: int):
    spec = read_data_json(folder / annotation)
    categories = {c["id"]: c[level] for c in spec["categories"]}
    files = {im["id"]: im["file_name"] for im in spec["images"]}
    pairs = [(files[a["image_id"]], categories[a["category_id"]]) for a in spec["annotations"]]
    if cap is not None:
        order = torch.randperm(len(pairs), generator=generator(seed, "inaturalist", annotation))
        seen: dict[str, int] = {}
        kept = []
        for i in order.tolist():
            name = pairs[i][1]
            if seen.get(name, 0) < cap:
                seen[name] = seen.get(name, 0) + 1
                kept.append(pairs[i])
        pairs = sorted(kept)
    return pairs, sorted(set(categories.values()))


def load_inaturalist(
    root: str | None = None,
    train_json: str = "train2018.json",
    test_json: str = "val2018.json",
    level: str = "supercategory",
    image_size: PositiveInt = 32,
    max_per_class: PositiveInt | None = None,
    test_max_per_class: PositiveInt | None = None,
    split_seed: int = 0,
) -> ALData:
    """iNaturalist (COCO-style annotation JSON) labelled by super-category: 14 classes for
    iNat2018 (RALIF §5 "iNaturalist (14 super classes)"), `level: name` for species.
    RALIF resizes to 32x32 for ResNet18 from scratch and 224 otherwise; `max_per_class`
    caps each class (seeded) before decoding. Augmentation: random crop + flip (RALIF)."""
    if level not in ("supercategory", "name"):
        raise unknown_choice("dataset.level", level, ("supercategory", "name"))
    options = {"train_json": train_json, "test_json": test_json}
    folder = ensure("inaturalist", root, False, options) / "inaturalist"
    train, classes = _inat_split(folder, train_json, level, max_per_class, split_seed)
    test, _ = _inat_split(folder, test_json, level, test_max_per_class, split_seed)
    index = {c: i for i, c in enumerate(classes)}
    return raw_images(
        "inaturalist",
        read_images([folder / f for f, _ in train], image_size, 3),
        np.array([index[c] for _, c in train]),
        read_images([folder / f for f, _ in test], image_size, 3),
        np.array([index[c] for _, c in test]),
        len(classes),
        augment={"crop_pad": max(1, image_size // 8), "hflip": 0.5},
        meta={"classes": classes},
    )


# iNaturalist 2018: train2018.json 437,513 images, val2018.json 24,426; 14 super-categories,
# 8,142 species (Van Horn et al. 2018).
INAT2018 = {"train_json": "train2018.json", "test_json": "val2018.json"}
INAT2018_CLASSES = {"supercategory": 14, "name": 8_142}


def _inaturalist_sizes(options: dict) -> Sizes | Unknown:
    if {k: options[k] for k in INAT2018} != INAT2018:
        return Unknown("annotation files other than iNaturalist 2018's are not described")
    if options["max_per_class"] or options["test_max_per_class"]:
        return Unknown("max_per_class keeps a number of images that depends on the annotations")
    if options["level"] not in INAT2018_CLASSES:
        raise unknown_choice("dataset.level", options["level"], INAT2018_CLASSES)
    classes = INAT2018_CLASSES[options["level"]]
    return Sizes(square(3, options["image_size"]), 437_513, 24_426, classes)


INATURALIST_DESCRIPTOR = Descriptor(_inaturalist_sizes, ({"level": "name"},))
