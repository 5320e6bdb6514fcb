"""The classical tests run single-threaded: on the shared 2-core machine two OpenMP threads spin against
other jobs and are several times slower than one."""

import torch

torch.set_num_threads(1)


import pytest  # noqa: E402


@pytest.fixture
def flip_tensor_byte():
    """Flip one byte in the middle of a weight tensor inside torch's zip checkpoint (its CRC is left stale)."""
    import struct
    import zipfile

    def flip(path, record_index=0):
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if "/data/" in i.filename and i.file_size >= 16]
        info = infos[record_index]
        raw = bytearray(path.read_bytes())
        n_name, n_extra = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        start = info.header_offset + 30 + n_name + n_extra
        raw[start + info.file_size // 2] ^= 0x5A
        path.write_bytes(bytes(raw))
        return info.filename

    return flip
