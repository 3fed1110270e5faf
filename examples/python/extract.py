#!/usr/bin/env python3
"""Prints the feature CSV of a classic pcap file through the C interface.
Usage: extract.py CAPTURE.pcap"""
import sys

import afterimage_ffi


def main(path):
    with afterimage_ffi.Engine() as engine:
        names = engine.feature_names()
    print(",".join(names))
    for row in afterimage_ffi.extract_capture(path):
        print(",".join(repr(float(value)) for value in row))


if __name__ == "__main__":
    main(sys.argv[1])
