// Header-only C++11 wrapper over the afterimage C interface: a move-only class that
// owns a handle, with failures thrown as afterimage::error carrying the status.
#ifndef AFTERIMAGE_HPP
#define AFTERIMAGE_HPP

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "afterimage.h"

namespace afterimage_cpp {

// A failed call: the status and the library's message for it.
class error : public std::runtime_error {
public:
    error(afterimage_status status, const std::string &message) : std::runtime_error(message), status_(status) {}
    afterimage_status status() const noexcept { return status_; }

private:
    afterimage_status status_;
};

inline std::string last_error() {
    size_t length = 0;
    afterimage_last_error(nullptr, 0, &length);
    std::vector<char> buffer(length + 1);
    if (afterimage_last_error(buffer.data(), buffer.size(), nullptr) != AFTERIMAGE_OK) {
        return std::string();
    }
    return std::string(buffer.data());
}

// Throws for every status except AFTERIMAGE_OK and AFTERIMAGE_SKIPPED_PACKET.
inline afterimage_status check(afterimage_status status) {
    if (status != AFTERIMAGE_OK && status != AFTERIMAGE_SKIPPED_PACKET) {
        throw error(status, std::string(afterimage_status_name(static_cast<uint32_t>(status))) + ": " + last_error());
    }
    return status;
}

inline afterimage_config default_config() {
    afterimage_config config;
    check(afterimage_config_default(&config, sizeof config));
    return config;
}

class engine {
public:
    explicit engine(const afterimage_config &config = default_config()) : handle_(nullptr) {
        check(afterimage_new(&config, &handle_));
    }
    ~engine() { afterimage_free(handle_); }
    engine(engine &&other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
    engine &operator=(engine &&other) noexcept {
        if (this != &other) {
            afterimage_free(handle_);
            handle_ = other.handle_;
            other.handle_ = nullptr;
        }
        return *this;
    }
    engine(const engine &) = delete;
    engine &operator=(const engine &) = delete;

    static engine load(const std::string &path) {
        afterimage *handle = nullptr;
        check(afterimage_load_state(path.c_str(), nullptr, &handle));
        return engine(handle);
    }

    size_t feature_count() const {
        size_t count = 0;
        check(afterimage_feature_count(handle_, &count));
        return count;
    }

    std::vector<std::string> feature_names() const {
        std::vector<std::string> names;
        char buffer[64];
        for (size_t i = 0, count = feature_count(); i < count; i++) {
            check(afterimage_feature_name(handle_, i, buffer, sizeof buffer, nullptr));
            names.emplace_back(buffer);
        }
        return names;
    }

    // Returns false (and leaves features alone) when the frame is skipped.
    bool update_packet(uint32_t link_type, const uint8_t *frame, size_t length, uint64_t seconds, uint64_t fraction,
                       uint32_t resolution_exponent, std::vector<double> &features) {
        features.resize(feature_count());
        return check(afterimage_update_packet(handle_, link_type, frame, length, seconds, fraction, resolution_exponent,
                                              features.data(), features.size())) == AFTERIMAGE_OK;
    }

    std::vector<double> update(const afterimage_vector &vector) {
        std::vector<double> features(feature_count());
        check(afterimage_update_vector(handle_, &vector, features.data(), features.size()));
        return features;
    }

    afterimage_database_stats stats() const {
        afterimage_database_stats stats;
        check(afterimage_stats(handle_, &stats));
        return stats;
    }

    void save(const std::string &path) const { check(afterimage_save_state(handle_, path.c_str())); }

    afterimage *get() noexcept { return handle_; }

private:
    explicit engine(afterimage *handle) : handle_(handle) {}
    afterimage *handle_;
};

}  // namespace afterimage_cpp

#endif
