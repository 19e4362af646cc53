"""Fashion-MNIST from the IDX files of Debian's dataset-fashion-mnist package."""
import gzip
import os
import struct
import sys

import numpy as np

DATA_DIR = os.environ.get("CIMVP_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# IDX element types (third byte of the magic).
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class DataError(RuntimeError):
    pass


def read_idx(path):
    """An IDX file (optionally gzip-compressed) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code not in _IDX_TYPES or ndim == 0:
        raise DataError(f"{path}: bad IDX magic {raw[:4].hex()}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    dtype = np.dtype(_IDX_TYPES[dtype_code])
    count = int(np.prod(dims))
    if len(raw) - header != count * dtype.itemsize:
        raise DataError(f"{path}: expected {count * dtype.itemsize} data bytes for shape {dims}, "
                        f"got {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def missing_message(path):
    return (f"Fashion-MNIST not found ({path}).\n"
            f"Install it with: sudo apt-get install dataset-fashion-mnist   (or: bash scripts/setup.sh)")


def load(split, data_dir=None):
    """(images uint8 [N,1,28,28], labels int64 [N]) of 'train' or 'test'."""
    data_dir = data_dir or DATA_DIR
    img_name, lbl_name = FILES[split]
    img_path, lbl_path = os.path.join(data_dir, img_name), os.path.join(data_dir, lbl_name)
    for p in (img_path, lbl_path):
        if not os.path.exists(p):
            raise FileNotFoundError(missing_message(p))
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(f"{img_path}: shape {images.shape} does not match labels {labels.shape}")
    return images[:, None, :, :].copy(), labels.astype(np.int64)


def load_or_exit(split, data_dir=None):
    try:
        return load(split, data_dir)
    except FileNotFoundError as e:
        print(str(e), file=sys.stderr)
        sys.exit(3)
