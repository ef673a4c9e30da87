"""The UCI 8×8 handwritten digits (1,797 images of the digits 0-9), bundled so demos and tests
run offline, returned in the shape of `keras.datasets.mnist.load_data()`.

Data: "Optical Recognition of Handwritten Digits" by E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository (https://doi.org/10.24432/C50P49), licensed CC BY 4.0. The file
`digits.csv.gz` is scikit-learn's copy (the UCI test set): 64 pixel counts in 0..16 and the
label per row, unchanged.
"""

import gzip
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "digits.csv.gz")
_NUM_TEST = 360  # a fixed 80/20 split
_SPLIT_SEED = 1337


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: uint8 images of shape (N, 8, 8) scaled to 0..255
    like MNIST's, and uint8 labels. The split (1,437 / 360) is a fixed shuffle, the same on
    every call and machine."""
    with gzip.open(_PATH, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :64], table[:, 64]
    images = np.rint(pixels * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 8, 8)
    labels = labels.astype(np.uint8)
    # RandomState's permutation is frozen across numpy versions, so the split never changes.
    order = np.random.RandomState(_SPLIT_SEED).permutation(len(labels))
    train, test = order[:-_NUM_TEST], order[-_NUM_TEST:]
    return (images[train], labels[train]), (images[test], labels[test])
