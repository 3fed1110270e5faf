"""The Python module against `afterimage extract` and against itself."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import afterimage_ffi

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "tests" / "fixtures" / "captures"
CLI = os.environ.get("AFTERIMAGE_CLI", str(ROOT / "target" / "release" / "afterimage"))


def cli_features(capture, tmp_path):
    output = tmp_path / "features.csv"
    subprocess.run([CLI, "extract", str(capture), "-o", str(output), "--quiet"], check=True)
    lines = output.read_text().splitlines()
    rows = [[float(value) for value in line.split(",")] for line in lines[1:]]
    return lines[0].split(","), np.array(rows).reshape(len(rows), len(lines[0].split(",")))


@pytest.mark.parametrize("name", [
    "arp-scan-nmap.pcap", "vlan-8021q-and-stacked.pcap", "linux-sll-cooked-v1.pcap",
    "raw-ip-dlt101.pcap", "null-loopback-ipv4-af2.pcap", "pcap-nanosecond-big-endian.pcap",
])
def test_extract_capture_matches_cli(name, tmp_path):
    names, expected = cli_features(CAPTURES / name, tmp_path)
    with afterimage_ffi.Engine() as engine:
        assert engine.feature_names() == names
    got = afterimage_ffi.extract_capture(CAPTURES / name)
    assert got.shape == expected.shape
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def sample_vectors(count):
    return [
        afterimage_ffi.make_vector(bytes([2, 0, 0, 0, 0, i % 3]), bytes([2, 0, 0, 0, 1, i % 5]),
                                   bytes([10, 0, 0, i % 3]), 1000 + i % 4, bytes([10, 0, 1, i % 5]), 443,
                                   1.0 + 0.01 * i, 60 + i)
        for i in range(count)
    ]


def test_peek_equals_update():
    vectors = sample_vectors(50)
    with afterimage_ffi.Engine() as engine:
        engine.update_vectors(vectors[:20])
        peeked = engine.peek_vectors(vectors[20:])
        assert engine.stats()["vectors_processed"] == 20
        updated = engine.update_vectors(vectors[20:])
    assert np.array_equal(peeked.view(np.uint64), updated.view(np.uint64))


def test_nan_timestamp_raises():
    vector, keep = afterimage_ffi.make_vector(None, None, bytes(4), None, bytes(4), None, float("nan"), 60)
    with afterimage_ffi.Engine() as engine, pytest.raises(afterimage_ffi.AfterImageError) as raised:
        engine.update_vectors([(vector, keep)])
    assert raised.value.status == 101
    assert "timestamp" in str(raised.value)


def test_invalid_decay_factor_raises():
    with pytest.raises(afterimage_ffi.AfterImageError, match="-1"):
        afterimage_ffi.Engine(decay_factors=[1.0, -1.0])


def test_preallocate_keeps_features():
    vectors = sample_vectors(50)
    with afterimage_ffi.Engine() as plain, afterimage_ffi.Engine() as preallocated:
        preallocated.preallocate(10_000)
        assert preallocated.stats()["bytes"] > plain.stats()["bytes"]
        expected = plain.update_vectors(vectors)
        assert np.array_equal(preallocated.update_vectors(vectors).view(np.uint64), expected.view(np.uint64))
        with pytest.raises(afterimage_ffi.AfterImageError, match="give a smaller count") as raised:
            preallocated.preallocate(2**64 - 1)
        assert raised.value.status == 101
