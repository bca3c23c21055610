#!/usr/bin/python3
"""SHA-256 of one dataset's values (C order, native bytes), read in row blocks: tells whether two
outputs hold the same pixels bit for bit, whatever their attributes and file layout differ in.

    python3 bench/dataset_digest.py FILE.h5 [/stitched]
      ->   {"sha256": "...", "shape": [...], "dtype": "...", "storageBytes": N, "fileBytes": N, ...}
"""
import hashlib
import json
import os
import sys

# Debian ships h5py for MPI only here (python3-h5py-mpi), loaded when this is set (see classic_stitch.py).
os.environ.setdefault('H5PY_ALWAYS_USE_MPI', '1')
import h5py  # noqa: E402

path, name = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else '/stitched')
with h5py.File(path, 'r') as f:
    d = f[name]
    digest = hashlib.sha256()
    rows = max(1, (64 << 20) // max(1, d.shape[1] * d.dtype.itemsize))
    for y in range(0, d.shape[0], rows):
        digest.update(d[y:y + rows].tobytes())
    # Bytes the dataset's chunks (or contiguous block) take in the file: with the file's size, says
    # whether compressed chunks were written once (no dead space) or rewritten.
    print(json.dumps({'sha256': digest.hexdigest(), 'shape': list(d.shape), 'dtype': str(d.dtype),
                      'storageBytes': d.id.get_storage_size(), 'chunks': d.chunks and list(d.chunks),
                      'compression': d.compression, 'fileBytes': os.path.getsize(path)}))
