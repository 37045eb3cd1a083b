"""The data-set reader: every spec kind on real MNIST / Fashion-MNIST files, gzipped and
not, torchvision's raw layout, folder and CSV sets built from real MNIST digits, and one
clear DataError for every way the files can be missing or broken."""

import gzip
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from support import shared_data
from torchvision.datasets.mnist import read_image_file, read_label_file

from visualizer.core.data import FASHION_MNIST_CLASSES, load_dataset, parse_data_spec
from visualizer.core.data import dataset as dataset_module
from visualizer.core.errors import DataError
from visualizer.core.images import load_image, preprocess, preprocess_batch
from visualizer.core.models.wrapper import Preprocessing

MNIST = shared_data("mnist")
FASHION = shared_data("fashion-mnist")
GRAY28 = Preprocessing(input_size=28, resize_size=28, channels=1, mean=(0.0,), std=(1.0,))


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset(f"mnist:{MNIST}", split="test")


@pytest.fixture(scope="module")
def plain_mnist_test(tmp_path_factory):
    """The MNIST test split decompressed (the layout torchvision leaves after a download)."""
    folder = tmp_path_factory.mktemp("plain")
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(MNIST / f"{name}.gz", "rb") as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return folder


def write_digits(folder, data, count, name_of=str):
    """The first ``count`` images of ``data`` as PNGs in folder/<class name>/."""
    written = []
    for i in range(count):
        label = int(data.labels[i])
        sub = folder / name_of(label)
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{i:04d}.png"
        Image.fromarray(data.images[i, 0].numpy(), mode="L").save(path)
        written.append((path, label))
    return written


def test_spec_grammar():
    assert parse_data_spec("mnist:/data/m").kind == "mnist"
    assert parse_data_spec("Fashion:/d").kind == "fashion-mnist"
    assert parse_data_spec(r"folder:C:\photos").path.name == r"C:\photos"    # only the first colon splits
    assert parse_data_spec("csv: list.csv ").path.name == "list.csv"
    for bad in ("imagenet:/x", "/data/mnist", "mnist:", ""):
        with pytest.raises(DataError):
            parse_data_spec(bad)


@pytest.mark.parametrize("bad, suggestion", [
    ("mnsit:/data/m", "Did you mean: mnist:/data/m?"),           # a misspelt kind: the spec as meant
    ("Fashon-MNIST:/d", "Did you mean: fashion-mnist:/d?"),
    ("fmnst:/d", "Did you mean: fashion-mnist:/d?"),             # close to an alias: the kind it stands for
    ("foldr:photos", "Did you mean: folder:photos?"),
    ("cvs:list.csv", "Did you mean: csv:list.csv?"),
    ("/data/mnist", "Did you mean: mnist:/data/mnist, fashion-mnist:/data/mnist, folder:/data/mnist?"),
    ("list.csv", "Did you mean: csv:list.csv?"),                 # the kind forgotten
    (r"C:\data", r"folder:C:\data"),                            # a drive letter is no kind
])
def test_a_misspelt_or_missing_kind_is_answered_with_the_closest_spec(bad, suggestion):
    with pytest.raises(DataError) as caught:
        parse_data_spec(bad)
    message = str(caught.value)
    assert message.startswith(f"Unknown data set {bad!r}") and suggestion in message, message
    assert message.count("Did you mean") == 1


def test_a_kind_alone_asks_for_its_folder():
    for bare in ("mnist", "folder", "csv:"):
        with pytest.raises(DataError, match="needs a (folder|file) after the colon"):
            parse_data_spec(bare)


def test_gzipped_mnist_matches_torchvision_reader_on_the_plain_files(mnist_test, plain_mnist_test):
    assert mnist_test.images.shape == (10000, 1, 28, 28) and mnist_test.images.dtype == torch.uint8
    assert mnist_test.class_names == [str(d) for d in range(10)]
    reference = read_image_file(str(plain_mnist_test / "t10k-images-idx3-ubyte"))
    assert torch.equal(mnist_test.images[:, 0], reference)
    assert torch.equal(mnist_test.labels, read_label_file(str(plain_mnist_test / "t10k-labels-idx1-ubyte")))
    plain = load_dataset(f"mnist:{plain_mnist_test}", split="test")
    assert plain.files["images"].endswith("t10k-images-idx3-ubyte")
    assert torch.equal(plain.images, mnist_test.images) and torch.equal(plain.labels, mnist_test.labels)
    pixels, labels = mnist_test.batch([0, 9999])
    assert pixels.dtype == torch.float32 and labels.dtype == torch.int64
    assert torch.equal(pixels, mnist_test.images[[0, 9999]].float() / 255)


def test_train_split_limit_and_fashion_names():
    train = load_dataset(f"mnist:{MNIST}", limit=100)
    assert len(train) == 100 and train.split == "train"
    fashion = load_dataset(f"fashion-mnist:{FASHION}", split="test", limit=5)
    assert fashion.class_names == FASHION_MNIST_CLASSES and len(fashion) == 5
    assert fashion.describe()["files"]["labels"].endswith("t10k-labels-idx1-ubyte.gz")


@pytest.mark.parametrize("layout", ["MNIST/raw", "raw", "dotted"])
def test_torchvision_raw_layout_and_dotted_names(tmp_path, mnist_test, layout):
    kind, source = "mnist", MNIST
    folder = tmp_path / ("." if layout == "dotted" else layout)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        target = name.replace("-idx", ".idx") if layout == "dotted" else name
        (folder / target).symlink_to(source / name)
    found = load_dataset(f"{kind}:{tmp_path}", split="test")
    assert torch.equal(found.images, mnist_test.images)


def test_fashion_in_torchvision_layout(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (raw / name).symlink_to(FASHION / name)
    assert len(load_dataset(f"fashion-mnist:{tmp_path}", split="test")) == 10000


def _idx_copy(tmp_path, plain_folder, images=None, labels=None):
    """A test-split folder with the real files, or the given bytes in their place."""
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, data in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        (folder / name).write_bytes(data if data is not None else (plain_folder / name).read_bytes())
    return folder


def test_every_broken_idx_file_is_one_clear_error(tmp_path, plain_mnist_test):
    images = (plain_mnist_test / "t10k-images-idx3-ubyte").read_bytes()
    labels = (plain_mnist_test / "t10k-labels-idx1-ubyte").read_bytes()
    cases = {
        "missing folder": (tmp_path / "nowhere", "does not exist"),
        "empty folder": (tmp_path, "no test images file"),
    }
    for what, (folder, message) in cases.items():
        with pytest.raises(DataError, match=message) as err:
            load_dataset(f"mnist:{folder}", split="test")
        assert str(folder) in str(err.value), what
    with pytest.raises(DataError, match=r"MNIST/raw"):   # says where it looked
        load_dataset(f"mnist:{tmp_path}", split="test")

    broken = {
        "truncated": (images[:-100], None, "truncated"),
        "labels as images": (labels, None, "magic number is 0x00000801, expected 0x00000803"),
        "gzip without suffix": (gzip.compress(images[:1000]), None, "gzip file without the .gz suffix"),
        "count mismatch": (None, _labels_header(5000) + labels[8:5008], "5000 labels"),
        "label out of range": (None, _labels_header(10000) + bytes([12]) * 10000, "label 12"),
        "too short": (b"\x00\x00", None, "only 2 bytes"),
    }
    for what, (img, lab, message) in broken.items():
        case = tmp_path / what.replace(" ", "_")
        case.mkdir()
        folder = _idx_copy(case, plain_mnist_test, img, lab)
        with pytest.raises(DataError, match=message):
            load_dataset(f"mnist:{folder}", split="test")


def _labels_header(n):
    return (0x0801).to_bytes(4, "big") + n.to_bytes(4, "big")


def test_corrupt_gzip_names_the_file(tmp_path):
    data = (MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "t10k-images-idx3-ubyte.gz").symlink_to(MNIST / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match="not a readable gzip file") as err:
        load_dataset(f"mnist:{tmp_path}", split="test")
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value)


def test_folder_of_real_digits(tmp_path, mnist_test):
    write_digits(tmp_path / "digits", mnist_test, 40)
    plain = load_dataset(f"folder:{tmp_path / 'digits'}")
    assert plain.split is None and plain.class_names == [str(d) for d in range(10)]
    # Numbered folders are class indices (not sorted as text); the image files are read in
    # sorted order, class by class, as torchvision's ImageFolder reads them.
    order = sorted(range(40), key=lambda i: (int(mnist_test.labels[i]), i))
    assert plain.labels.tolist() == [int(mnist_test.labels[i]) for i in order]
    assert plain.image_shape == (3, 28, 28)
    gray = load_dataset(f"folder:{tmp_path / 'digits'}", preprocessing=GRAY28)
    x, y = gray.batch(torch.arange(40))
    assert x.shape == (40, 1, 28, 28)
    assert torch.allclose(x, mnist_test.images[order].float() / 255, atol=1e-6)


def test_folder_classes_match_the_model_by_name_or_index(tmp_path, mnist_test):
    # Folders named like the model's classes (any case), or by index where the name cannot
    # be a folder name ("T-shirt/top" -> "0").
    def folder_name(i):
        return str(i) if "/" in FASHION_MNIST_CLASSES[i] else FASHION_MNIST_CLASSES[i].lower()

    written = write_digits(tmp_path / "named", mnist_test, 12, name_of=folder_name)
    data = load_dataset(f"folder:{tmp_path / 'named'}", class_names=FASHION_MNIST_CLASSES, preprocessing=GRAY28)
    expected = [label for path, label in sorted(written, key=lambda w: (w[0].parent.name, w[0].name))]
    assert data.labels.tolist() == expected
    assert data.class_names == FASHION_MNIST_CLASSES
    write_digits(tmp_path / "odd", mnist_test, 3, name_of=lambda i: "jacket")
    with pytest.raises(DataError, match="'jacket' is neither a class name of the model"):
        load_dataset(f"folder:{tmp_path / 'odd'}", class_names=FASHION_MNIST_CLASSES)


def test_folder_train_test_layout_and_errors(tmp_path, mnist_test):
    write_digits(tmp_path / "split" / "train", mnist_test, 10)
    write_digits(tmp_path / "split" / "test", mnist_test, 5)
    assert len(load_dataset(f"folder:{tmp_path / 'split'}", split="test")) == 5
    assert load_dataset(f"folder:{tmp_path / 'split'}").split == "train"
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    (tmp_path / "empty" / "cat" / "notes.txt").write_text("no image")
    (tmp_path / "flat").mkdir()
    (tmp_path / "bad" / "3").mkdir(parents=True)
    (tmp_path / "bad" / "3" / "x.png").write_bytes(b"not a png")
    for folder, message in (("missing", "no such folder"), ("empty", "hold no images"),
                            ("flat", "no class folders"), ("bad", "x.png")):
        with pytest.raises(DataError, match=message):
            load_dataset(f"folder:{tmp_path / folder}", preprocessing=GRAY28)
    sizes = tmp_path / "sizes" / "1"
    sizes.mkdir(parents=True)
    Image.new("L", (28, 28)).save(sizes / "a.png")
    Image.new("L", (32, 32)).save(sizes / "b.png")
    with pytest.raises(DataError, match="must have one size"):
        load_dataset(f"folder:{tmp_path / 'sizes'}")


def test_csv_rows_relative_absolute_named_and_numbered(tmp_path, mnist_test):
    written = write_digits(tmp_path / "imgs", mnist_test, 6)
    rows = ["path,label"] + [f"imgs/{p.parent.name}/{p.name},{label}" for p, label in written[:3]]
    rows += [f"{p},{label}" for p, label in written[3:]]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset(f"csv:{tmp_path / 'list.csv'}", preprocessing=GRAY28)
    assert data.labels.tolist() == [label for _, label in written]      # CSV order kept
    x, _ = data.batch(torch.arange(6))
    assert torch.allclose(x, mnist_test.images[:6].float() / 255, atol=1e-6)
    named = tmp_path / "named.csv"
    named.write_text(f"{written[0][0]},Trouser\n{written[1][0]},2\n")
    data = load_dataset(f"csv:{named}", class_names=FASHION_MNIST_CLASSES, preprocessing=GRAY28)
    assert data.labels.tolist() == [1, 2]


def test_csv_errors(tmp_path, mnist_test):
    written = write_digits(tmp_path / "imgs", mnist_test, 1)
    cases = {
        "missing.csv": (None, "no such file"),
        "empty.csv": ("path,label\n", "holds no path,label rows"),
        "short.csv": (f"{written[0][0]}\n", "row 1 is"),
        "gone.csv": ("imgs/none.png,3\n", "row 1 names"),
    }
    for name, (text, message) in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=message) as err:
            load_dataset(f"csv:{tmp_path / name}")
        assert name in str(err.value)


def test_large_folders_decode_per_batch_to_the_same_pixels(tmp_path, mnist_test, monkeypatch):
    write_digits(tmp_path / "d", mnist_test, 8)
    eager = load_dataset(f"folder:{tmp_path / 'd'}", preprocessing=GRAY28)
    monkeypatch.setattr(dataset_module, "EAGER_BYTES", 0)
    lazy = load_dataset(f"folder:{tmp_path / 'd'}", preprocessing=GRAY28)
    assert lazy.images is None and eager.images is not None
    index = torch.tensor([7, 0, 3])
    assert torch.equal(lazy.batch(index)[0], eager.batch(index)[0])
    assert torch.equal(lazy.subset(index).batch([0, 1])[1], eager.labels[[7, 0]])


def test_preprocess_batch_is_the_windows_preprocessing(tmp_path, mnist_test):
    """An MNIST batch fed to an RGB model at another size equals each digit opened as a
    PNG in the app and preprocessed there."""
    pre = Preprocessing(input_size=32, resize_size=36, interpolation="bicubic", channels=3)
    written = write_digits(tmp_path, mnist_test, 3)
    batch = preprocess_batch(mnist_test.images[:3].float() / 255, pre)
    singles = torch.cat([preprocess(load_image(p), pre)[0] for p, _ in written])
    assert batch.shape == (3, 3, 32, 32)
    assert torch.allclose(batch, singles, atol=1e-6)
    lite = load_dataset(f"mnist:{MNIST}", split="test", preprocessing=pre, limit=3)
    assert torch.allclose(lite.batch([0, 1, 2])[0], singles, atol=1e-6)
    assert np.isclose(float(batch.max()), float(singles.max()))


def test_numbered_folders_are_indices_not_text(tmp_path, mnist_test):
    written = write_digits(tmp_path / "n", mnist_test, 2, name_of=lambda i: {7: "10", 2: "2"}[i])
    data = load_dataset(f"folder:{tmp_path / 'n'}", preprocessing=GRAY28)
    assert sorted(data.labels.tolist()) == [2, 10]       # "10" sorts before "2" as text
    assert data.class_names == [str(i) for i in range(11)]
    assert [int(mnist_test.labels[i]) for i in range(2)] == [7, 2] and len(written) == 2


@pytest.mark.parametrize("kind, other", [("fashion-mnist", MNIST), ("mnist", FASHION)])
def test_one_standard_set_read_as_the_other_is_refused(kind, other):
    # The two sets' files have the same names; only their contents tell them apart.
    with pytest.raises(DataError, match=r"is the standard .* label file, but it was read as " + kind):
        load_dataset(f"{kind}:{other}", split="test", limit=5)


def test_own_idx_data_under_either_kind_still_reads(tmp_path, plain_mnist_test):
    # Not a standard file (one label changed): the reader cannot know its set, so it trusts the spec.
    labels = bytearray((plain_mnist_test / "t10k-labels-idx1-ubyte").read_bytes())
    labels[8] = (labels[8] + 1) % 10
    shutil.copy(plain_mnist_test / "t10k-images-idx3-ubyte", tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    assert load_dataset(f"fashion-mnist:{tmp_path}", split="test").class_names == FASHION_MNIST_CLASSES
