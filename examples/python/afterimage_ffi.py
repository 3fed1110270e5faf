"""AfterImage features from Python through the C interface, with ctypes (no compiled
extension). Results are NumPy arrays of shape (rows, feature_count).

The shared library is found through the AFTERIMAGE_LIBRARY environment variable, or
else as target/release/libafterimage.so in the repository."""

import ctypes
import os
import struct
from pathlib import Path

import numpy as np

OK, SKIPPED_PACKET, RECORD_LIMIT = 0, 1, 200
ADDRESS_NONE, ADDRESS_MAC, ADDRESS_IPV4, ADDRESS_IPV6, ADDRESS_RAW = range(5)
PROTOCOL_NONE, PROTOCOL_PORT, PROTOCOL_ICMP, PROTOCOL_ARP = range(4)


class Config(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("decay_factors", ctypes.POINTER(ctypes.c_double)),
        ("decay_factor_count", ctypes.c_size_t),
        ("record_limit", ctypes.c_uint64),
        ("limit_policy", ctypes.c_uint32),
        ("cleaning_interval", ctypes.c_uint64),
    ]


class CAddress(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_uint32),
        ("length", ctypes.c_uint32),
        ("bytes", ctypes.c_uint8 * 16),
        ("raw", ctypes.POINTER(ctypes.c_uint8)),
    ]


class CProtocol(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint32), ("port", ctypes.c_uint16)]


class CVector(ctypes.Structure):
    _fields_ = [
        ("ip_type", ctypes.c_uint8),
        ("src_mac", CAddress),
        ("dst_mac", CAddress),
        ("src_ip", CAddress),
        ("src_protocol", CProtocol),
        ("dst_ip", CAddress),
        ("dst_protocol", CProtocol),
        ("timestamp", ctypes.c_double),
        ("size", ctypes.c_uint32),
    ]


class Stats(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("records", "links", "bytes", "vectors_processed")]


class AfterImageError(Exception):
    """A failed call: `status` is the afterimage_status value."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _load_library():
    default = Path(__file__).resolve().parents[2] / "target" / "release" / "libafterimage.so"
    library = ctypes.CDLL(os.environ.get("AFTERIMAGE_LIBRARY", str(default)))
    pointer = ctypes.c_void_p
    size_p = ctypes.POINTER(ctypes.c_size_t)
    doubles = ctypes.POINTER(ctypes.c_double)
    signatures = {
        "afterimage_version": ([], ctypes.c_char_p),
        "afterimage_status_name": ([ctypes.c_uint32], ctypes.c_char_p),
        "afterimage_last_error": ([ctypes.c_char_p, ctypes.c_size_t, size_p], ctypes.c_int),
        "afterimage_config_default": ([ctypes.POINTER(Config), ctypes.c_size_t], ctypes.c_int),
        "afterimage_new": ([ctypes.POINTER(Config), ctypes.POINTER(pointer)], ctypes.c_int),
        "afterimage_free": ([pointer], None),
        "afterimage_feature_count": ([pointer, size_p], ctypes.c_int),
        "afterimage_feature_name": ([pointer, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, size_p], ctypes.c_int),
        "afterimage_update_vector": ([pointer, ctypes.POINTER(CVector), doubles, ctypes.c_size_t], ctypes.c_int),
        "afterimage_update_packet": (
            [pointer, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64, ctypes.c_uint64,
             ctypes.c_uint32, doubles, ctypes.c_size_t],
            ctypes.c_int,
        ),
        "afterimage_peek_vectors": ([pointer, ctypes.POINTER(CVector), ctypes.c_size_t, doubles, ctypes.c_size_t], ctypes.c_int),
        "afterimage_stats": ([pointer, ctypes.POINTER(Stats)], ctypes.c_int),
        "afterimage_preallocate": ([pointer, ctypes.c_uint64], ctypes.c_int),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(library, name)
        function.argtypes = arguments
        function.restype = result
    return library


_lib = _load_library()


def _check(status):
    if status in (OK, SKIPPED_PACKET):
        return status
    buffer = ctypes.create_string_buffer(1024)
    _lib.afterimage_last_error(buffer, len(buffer), None)
    name = _lib.afterimage_status_name(status).decode()
    raise AfterImageError(status, f"{name}: {buffer.value.decode(errors='replace')}")


def _address(data, ip_field):
    """Builds a C address from bytes: 4 and 16 bytes are IPv4 and IPv6 in IP fields,
    6 bytes is a MAC in MAC fields, other lengths are raw, None is no address."""
    address = CAddress()
    if data is None:
        return address, None
    data = bytes(data)
    if ip_field and len(data) in (4, 16):
        address.kind = ADDRESS_IPV4 if len(data) == 4 else ADDRESS_IPV6
    elif not ip_field and len(data) == 6:
        address.kind = ADDRESS_MAC
    else:
        address.kind = ADDRESS_RAW
    address.length = len(data)
    keep = None
    if len(data) <= 16:
        ctypes.memmove(address.bytes, data, len(data))
    else:
        keep = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        address.raw = ctypes.cast(keep, ctypes.POINTER(ctypes.c_uint8))
    return address, keep


def _protocol(value):
    if value is None:
        return CProtocol(PROTOCOL_NONE, 0)
    if value == "icmp":
        return CProtocol(PROTOCOL_ICMP, 0)
    if value == "arp":
        return CProtocol(PROTOCOL_ARP, 0)
    return CProtocol(PROTOCOL_PORT, int(value))


def make_vector(src_mac, dst_mac, src_ip, src_protocol, dst_ip, dst_protocol, timestamp, size, ip_type=None):
    """Returns (CVector, buffers to keep alive while the vector is used).
    Protocols are a port number, "icmp", "arp" or None."""
    keep = []
    fields = {}
    for name, data, ip_field in (("src_mac", src_mac, False), ("dst_mac", dst_mac, False),
                                 ("src_ip", src_ip, True), ("dst_ip", dst_ip, True)):
        fields[name], buffer = _address(data, ip_field)
        keep.append(buffer)
    if ip_type is None:
        ip_type = 1 if src_ip is not None and len(src_ip) == 16 else 0
    vector = CVector(ip_type=ip_type, src_protocol=_protocol(src_protocol), dst_protocol=_protocol(dst_protocol),
                     timestamp=timestamp, size=size, **fields)
    return vector, keep


class Engine:
    """One afterimage handle. Calls are serialised by the library's lock."""

    def __init__(self, decay_factors=None, record_limit=0, evict=False, cleaning_interval=None):
        config = Config()
        _check(_lib.afterimage_config_default(ctypes.byref(config), ctypes.sizeof(Config)))
        if decay_factors is not None:
            self._factors = (ctypes.c_double * len(decay_factors))(*decay_factors)
            config.decay_factors = self._factors
            config.decay_factor_count = len(decay_factors)
        config.record_limit = record_limit
        config.limit_policy = 1 if evict else 0
        if cleaning_interval is not None:
            config.cleaning_interval = cleaning_interval
        self._handle = ctypes.c_void_p()
        _check(_lib.afterimage_new(ctypes.byref(config), ctypes.byref(self._handle)))
        count = ctypes.c_size_t()
        _check(_lib.afterimage_feature_count(self._handle, ctypes.byref(count)))
        self.feature_count = count.value

    def close(self):
        if self._handle:
            _lib.afterimage_free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    def feature_names(self):
        buffer = ctypes.create_string_buffer(64)
        names = []
        for index in range(self.feature_count):
            _check(_lib.afterimage_feature_name(self._handle, index, buffer, len(buffer), None))
            names.append(buffer.value.decode())
        return names

    def update_vectors(self, vectors):
        """Updates with each (CVector, keep) from make_vector in order; returns the
        features as an array of shape (len(vectors), feature_count)."""
        out = np.zeros((len(vectors), self.feature_count))
        for row, (vector, _keep) in enumerate(vectors):
            pointer = out[row].ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            _check(_lib.afterimage_update_vector(self._handle, ctypes.byref(vector), pointer, self.feature_count))
        return out

    def peek_vectors(self, vectors):
        """Features that update_vectors would return, without changing the engine."""
        array = (CVector * len(vectors))(*(vector for vector, _keep in vectors))
        out = np.zeros((len(vectors), self.feature_count))
        pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        _check(_lib.afterimage_peek_vectors(self._handle, array, len(vectors), pointer, out.size))
        return out

    def update_packet(self, link_type, frame, seconds, fraction, resolution_exponent):
        """Returns the packet's features, or None when the frame is skipped or over
        the record limit (as `afterimage extract` skips it)."""
        out = np.zeros(self.feature_count)
        pointer = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        status = _lib.afterimage_update_packet(self._handle, link_type, frame, len(frame), seconds, fraction,
                                               resolution_exponent, pointer, self.feature_count)
        if status == RECORD_LIMIT:
            return None
        return out if _check(status) == OK else None

    def preallocate(self, records):
        """Allocates and maps the memory of `records` records now, so that no later
        update waits for fresh memory until the engine contains more."""
        _check(_lib.afterimage_preallocate(self._handle, records))

    def stats(self):
        stats = Stats()
        _check(_lib.afterimage_stats(self._handle, ctypes.byref(stats)))
        return {name: getattr(stats, name) for name, _type in Stats._fields_}


def read_pcap(path):
    """Yields (link_type, frame, seconds, fraction, resolution_exponent) for each
    record of a classic pcap file (either byte order, micro- or nanoseconds)."""
    with open(path, "rb") as file:
        header = file.read(24)
        magics = {b"\xd4\xc3\xb2\xa1": ("<", 6), b"\xa1\xb2\xc3\xd4": (">", 6),
                  b"\x4d\x3c\xb2\xa1": ("<", 9), b"\xa1\xb2\x3c\x4d": (">", 9)}
        if len(header) < 24 or header[:4] not in magics:
            raise ValueError(f"{path} is not a classic pcap file")
        order, exponent = magics[header[:4]]
        link_type = struct.unpack(order + "I", header[20:24])[0] & 0x0FFFFFFF
        while True:
            record = file.read(16)
            if len(record) < 16:
                return
            seconds, fraction, captured, _original = struct.unpack(order + "IIII", record)
            frame = file.read(captured)
            if len(frame) < captured:
                raise ValueError(f"{path} ends inside a record")
            yield link_type, frame, seconds, fraction, exponent


def extract_capture(path, **engine_options):
    """Features of every packet of a classic pcap file that is not skipped, as
    `afterimage extract` writes them: an array of shape (rows, feature_count)."""
    with Engine(**engine_options) as engine:
        rows = [row for row in (engine.update_packet(*record) for record in read_pcap(path)) if row is not None]
        return np.array(rows).reshape(len(rows), engine.feature_count)
