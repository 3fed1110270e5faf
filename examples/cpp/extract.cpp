// Prints the feature CSV of a capture, like examples/c/extract.c, through the RAII
// wrapper. Reads classic pcap files itself (no libpcap) to keep the example short.
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "afterimage.hpp"

namespace {

uint32_t read32(const unsigned char *bytes, bool swapped) {
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        value |= static_cast<uint32_t>(bytes[swapped ? 3 - i : i]) << (8 * i);
    }
    return value;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " CAPTURE.pcap\n";
        return 2;
    }
    std::ifstream file(argv[1], std::ios::binary);
    unsigned char header[24];
    if (!file.read(reinterpret_cast<char *>(header), sizeof header)) {
        std::cerr << "extract: cannot read the pcap header of " << argv[1] << "\n";
        return 1;
    }
    uint32_t magic = read32(header, false);
    bool swapped = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
    uint32_t native = read32(header, swapped);
    if (native != 0xa1b2c3d4 && native != 0xa1b23c4d) {
        std::cerr << "extract: " << argv[1] << " is not a classic pcap file\n";
        return 1;
    }
    uint32_t exponent = native == 0xa1b23c4d ? 9 : 6;
    uint32_t link_type = read32(header + 20, swapped) & 0x0fffffff;

    try {
        afterimage_cpp::engine engine;
        std::vector<std::string> names = engine.feature_names();
        for (size_t i = 0; i < names.size(); i++) {
            std::printf("%s%s", i ? "," : "", names[i].c_str());
        }
        std::printf("\n");

        std::vector<double> features;
        std::vector<uint8_t> frame;
        unsigned char record[16];
        while (file.read(reinterpret_cast<char *>(record), sizeof record)) {
            uint32_t captured = read32(record + 8, swapped);
            frame.resize(captured);
            if (!file.read(reinterpret_cast<char *>(frame.data()), captured)) {
                std::cerr << "extract: " << argv[1] << " ends inside a record\n";
                return 1;
            }
            try {
                if (!engine.update_packet(link_type, frame.data(), frame.size(), read32(record, swapped),
                                          read32(record + 4, swapped), exponent, features)) {
                    continue;
                }
            } catch (const afterimage_cpp::error &failure) {
                if (failure.status() == AFTERIMAGE_RECORD_LIMIT) {
                    continue;
                }
                throw;
            }
            for (size_t i = 0; i < features.size(); i++) {
                std::printf("%s%.17g", i ? "," : "", features[i]);
            }
            std::printf("\n");
        }
    } catch (const afterimage_cpp::error &failure) {
        std::cerr << "extract: " << failure.what() << "\n";
        return 1;
    }
    return 0;
}
