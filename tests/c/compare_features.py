#!/usr/bin/env python3
"""Compare two feature CSVs: same header, same row count, and every value equal bit
for bit once parsed as a float64 (so 0.1 and 0.10000000000000001 match).
Usage: compare_features.py EXPECTED.csv ACTUAL.csv"""
import struct
import sys


def rows(path):
    with open(path) as file:
        return [line.rstrip("\n").split(",") for line in file]


def bits(text):
    return struct.pack("<d", float(text))


def main(expected_path, actual_path):
    expected, actual = rows(expected_path), rows(actual_path)
    if not expected or not actual or expected[0] != actual[0]:
        sys.exit(f"{actual_path}: header differs from {expected_path}")
    if len(expected) != len(actual):
        sys.exit(f"{actual_path}: {len(actual) - 1} rows, {expected_path} has {len(expected) - 1}")
    for number, (want, got) in enumerate(zip(expected[1:], actual[1:]), start=2):
        if len(want) != len(got):
            sys.exit(f"{actual_path}: line {number} has {len(got)} values, expected {len(want)}")
        for column, (a, b) in enumerate(zip(want, got)):
            if bits(a) != bits(b):
                sys.exit(f"{actual_path}: line {number}, column {expected[0][column]}: {b} != {a}")
    print(f"{actual_path}: {len(actual) - 1} rows identical")


if __name__ == "__main__":
    main(*sys.argv[1:])
