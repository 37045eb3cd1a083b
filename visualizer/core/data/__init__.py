"""Data sets as one concept for every command that takes data: a spec string
(``mnist:DIR``, ``fashion-mnist:DIR``, ``folder:DIR``, ``csv:FILE``), one reader, and a
``Dataset`` that hands out batches of [0, 1] pixels with int64 labels. Nothing downloads.

The reader's modules (torch, torchvision, Pillow) load on first use: the CLI's parser reads
``SPEC_FORMS`` for its help text, and every command paid seconds of imports for it."""

from importlib import import_module

_WHERE = {
    "Dataset": "dataset", "data_class_names": "dataset", "load_dataset": "dataset",
    "FASHION_MNIST_CLASSES": "idx", "MNIST_CLASSES": "idx",
    "KINDS": "spec", "SPEC_FORMS": "spec", "SPLITS": "spec", "DataSpec": "spec", "parse_data_spec": "spec",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"visualizer.core.data.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
