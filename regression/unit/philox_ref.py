#!/usr/bin/python3
"""Independent Philox-4x32-10 (Salmon et al., SC'11) in NumPy, to cross-check src/sys/philox.c.

Usage: philox_ref.py              print the Random123 known-answer vectors and a few extra counters
       philox_ref.py c0 c1 c2 c3 k0 k1   (hex) print the output block for one counter/key
Each output line is "ctr0 ctr1 ctr2 ctr3 key0 key1 -> out0 out1 out2 out3" in hex, the format
test_random prints, so the two can be compared with diff.  Exit status 1 if a known answer fails.
"""
import sys
import numpy as np

M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))   # multipliers of the round function
W = (np.uint32(0x9E3779B9), np.uint32(0xBB67AE85))   # Weyl key increments
MASK = np.uint64(0xFFFFFFFF)
S32 = np.uint64(32)


def philox4x32_10(ctr, key):
    """ctr: uint32 array [..., 4]; key: uint32 array [..., 2].  Vectorised over leading axes."""
    c = np.array(ctr, dtype=np.uint32)
    k = np.array(key, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for r in range(10):
            if r:
                k = np.stack([k[..., 0] + W[0], k[..., 1] + W[1]], axis=-1)
            p0 = M[0] * c[..., 0].astype(np.uint64)
            p1 = M[1] * c[..., 2].astype(np.uint64)
            hi0, lo0 = (p0 >> S32).astype(np.uint32), (p0 & MASK).astype(np.uint32)
            hi1, lo1 = (p1 >> S32).astype(np.uint32), (p1 & MASK).astype(np.uint32)
            c = np.stack([hi1 ^ c[..., 1] ^ k[..., 0], lo1, hi0 ^ c[..., 3] ^ k[..., 1], lo0], axis=-1)
    return c


# Random123 kat_vectors, philox4x32_10 lines: counter, key, expected output.
KAT = [
    ((0x00000000,) * 4, (0x00000000,) * 2, (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
# Extra counters that test_random also prints (must match the list in test_random.c).
EXTRA = [
    ((0x00000001, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000)),
    ((0x00000000, 0x00000007, 0x0000002A, 0x01000000), (0x00003039, 0x00000000)),
    ((0x12345678, 0x9ABCDEF0, 0x0FEDCBA9, 0x87654321), (0xDEADBEEF, 0xCAFEBABE)),
]


def line(ctr, key, out):
    return " ".join("%08x" % v for v in ctr) + " " + " ".join("%08x" % v for v in key) + " -> " + " ".join("%08x" % int(v) for v in out)


def main(argv):
    if len(argv) == 7:
        v = [int(a, 16) for a in argv[1:]]
        print(line(v[:4], v[4:], philox4x32_10(v[:4], v[4:])))
        return 0
    fail = 0
    for ctr, key, want in KAT:
        got = philox4x32_10(ctr, key)
        ok = tuple(int(g) for g in got) == want
        fail += not ok
        print(line(ctr, key, got) + ("" if ok else "   MISMATCH with Random123 kat_vectors"))
    for ctr, key in EXTRA:
        print(line(ctr, key, philox4x32_10(ctr, key)))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
