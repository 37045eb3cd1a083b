"""Data sets as one concept for every command that takes data: a spec string
(``mnist:DIR``, ``fashion-mnist:DIR``, ``folder:DIR``, ``csv:FILE``), one reader, and a
``Dataset`` that hands out batches of [0, 1] pixels with int64 labels. Nothing downloads."""

from visualizer.core.data.dataset import Dataset, load_dataset
from visualizer.core.data.idx import FASHION_MNIST_CLASSES, MNIST_CLASSES
from visualizer.core.data.spec import KINDS, SPEC_FORMS, SPLITS, DataSpec, parse_data_spec

__all__ = ["Dataset", "DataSpec", "FASHION_MNIST_CLASSES", "KINDS", "MNIST_CLASSES", "SPEC_FORMS", "SPLITS",
           "load_dataset", "parse_data_spec"]
