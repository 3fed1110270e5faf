/*
 * Calls every entry point with NULL pointers, wrong sizes and bad values, and checks
 * the documented status and that the last-error message names the bad value.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "afterimage.h"

static int failures;

static void expect(const char *call, afterimage_status got, afterimage_status want, const char *word) {
    char message[1024];
    afterimage_last_error(message, sizeof message, NULL);
    if (got != want) {
        fprintf(stderr, "FAIL %s: returned %s, expected %s (%s)\n", call, afterimage_status_name((uint32_t)got),
                afterimage_status_name((uint32_t)want), message);
        failures++;
    } else if (word != NULL && strstr(message, word) == NULL) {
        fprintf(stderr, "FAIL %s: message \"%s\" does not name \"%s\"\n", call, message, word);
        failures++;
    }
}

#define EXPECT(call, want, word) expect(#call, (call), (want), (word))

static afterimage_vector sample_vector(double timestamp) {
    afterimage_vector vector;
    memset(&vector, 0, sizeof vector);
    vector.src_ip.kind = AFTERIMAGE_ADDRESS_IPV4;
    vector.src_ip.length = 4;
    vector.src_ip.bytes[0] = 10;
    vector.dst_ip = vector.src_ip;
    vector.dst_ip.bytes[3] = 2;
    vector.timestamp = timestamp;
    vector.size = 60;
    return vector;
}

int main(void) {
    afterimage_config config;
    afterimage *handle = NULL;
    afterimage *none = NULL;
    double features[100];
    size_t length = 0;
    char text[8];
    uint8_t frame[60] = {0};
    afterimage_database_stats stats;
    afterimage_vector vector = sample_vector(1.0);

    EXPECT(afterimage_config_default(NULL, sizeof config), AFTERIMAGE_NULL_ARGUMENT, "config");
    EXPECT(afterimage_config_default(&config, sizeof config - 1), AFTERIMAGE_INVALID_ARGUMENT, "config_size");
    EXPECT(afterimage_config_default(&config, sizeof config), AFTERIMAGE_OK, NULL);
    EXPECT(afterimage_new(NULL, &handle), AFTERIMAGE_NULL_ARGUMENT, "config");
    EXPECT(afterimage_new(&config, NULL), AFTERIMAGE_NULL_ARGUMENT, "handle_out");

    afterimage_config bad = config;
    bad.struct_size = 8;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_INVALID_ARGUMENT, "struct_size");
    bad = config;
    bad.decay_factor_count = 0;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_INVALID_ARGUMENT, "no decay factors");
    double negative[] = {1.0, -2.0};
    bad.decay_factors = negative;
    bad.decay_factor_count = 2;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_INVALID_ARGUMENT, "-2");
    double not_a_number[] = {NAN};
    bad.decay_factors = not_a_number;
    bad.decay_factor_count = 1;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_INVALID_ARGUMENT, "NaN");
    bad.decay_factors = NULL;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_NULL_ARGUMENT, "config.decay_factors");
    bad = config;
    bad.limit_policy = 5;
    EXPECT(afterimage_new(&bad, &none), AFTERIMAGE_INVALID_ARGUMENT, "limit_policy");
    if (none != NULL) {
        fprintf(stderr, "FAIL: a failed afterimage_new wrote a handle\n");
        failures++;
    }

    EXPECT(afterimage_new(&config, &handle), AFTERIMAGE_OK, NULL);
    EXPECT(afterimage_update_vector(NULL, &vector, features, 100), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_update_vector(handle, NULL, features, 100), AFTERIMAGE_NULL_ARGUMENT, "vector");
    EXPECT(afterimage_update_vector(handle, &vector, NULL, 100), AFTERIMAGE_NULL_ARGUMENT, "features");
    EXPECT(afterimage_update_vector(handle, &vector, features, 99), AFTERIMAGE_BUFFER_TOO_SMALL, "99");
    afterimage_vector nan_vector = sample_vector(NAN);
    EXPECT(afterimage_update_vector(handle, &nan_vector, features, 100), AFTERIMAGE_INVALID_ARGUMENT, "timestamp");
    afterimage_vector bad_vector = sample_vector(1.0);
    bad_vector.src_ip.length = 3;
    EXPECT(afterimage_update_vector(handle, &bad_vector, features, 100), AFTERIMAGE_INVALID_ARGUMENT, "src_ip.length");

    EXPECT(afterimage_update_packet(NULL, 1, frame, 60, 0, 0, 6, features, 100), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_update_packet(handle, 1, NULL, 60, 0, 0, 6, features, 100), AFTERIMAGE_NULL_ARGUMENT, "frame");
    EXPECT(afterimage_update_packet(handle, 1, frame, 60, 0, 0, 6, NULL, 100), AFTERIMAGE_NULL_ARGUMENT, "features");
    EXPECT(afterimage_update_packet(handle, 1, frame, 60, 0, 1000000, 6, features, 100), AFTERIMAGE_INVALID_ARGUMENT, "fraction");
    EXPECT(afterimage_update_packet(handle, 1, frame, 60, 0, 0, 25, features, 100), AFTERIMAGE_INVALID_ARGUMENT, "resolution_exponent");
    EXPECT(afterimage_update_packet(handle, 1, frame, 60, 0, 0, 6, features, 100), AFTERIMAGE_SKIPPED_PACKET, NULL);
    EXPECT(afterimage_parse_packet(1, frame, 60, 0, 0, 6, NULL, NULL, 0), AFTERIMAGE_NULL_ARGUMENT, "vector_out");

    EXPECT(afterimage_peek_vectors(NULL, &vector, 1, features, 100), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_peek_vectors(handle, NULL, 1, features, 100), AFTERIMAGE_NULL_ARGUMENT, "vectors");
    EXPECT(afterimage_peek_vectors(handle, &vector, 1, features, 50), AFTERIMAGE_BUFFER_TOO_SMALL, "50");
    EXPECT(afterimage_peek_vectors(handle, &nan_vector, 1, features, 100), AFTERIMAGE_INVALID_ARGUMENT, "vectors[0].timestamp");

    EXPECT(afterimage_feature_count(NULL, &length), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_feature_count(handle, NULL), AFTERIMAGE_NULL_ARGUMENT, "count_out");
    EXPECT(afterimage_feature_name(handle, 0, NULL, 0, &length), AFTERIMAGE_NULL_ARGUMENT, "buffer");
    EXPECT(afterimage_feature_name(handle, 0, text, sizeof text, &length), AFTERIMAGE_BUFFER_TOO_SMALL, "8 bytes");
    EXPECT(afterimage_feature_name(handle, 100, text, sizeof text, &length), AFTERIMAGE_INVALID_ARGUMENT, "index 100");
    EXPECT(afterimage_stats(NULL, &stats), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_stats(handle, NULL), AFTERIMAGE_NULL_ARGUMENT, "stats_out");
    EXPECT(afterimage_preallocate(NULL, 10), AFTERIMAGE_NULL_ARGUMENT, "handle");
    EXPECT(afterimage_preallocate(handle, UINT64_MAX), AFTERIMAGE_INVALID_ARGUMENT, "at most");

    EXPECT(afterimage_save_state(handle, NULL), AFTERIMAGE_NULL_ARGUMENT, "path");
    EXPECT(afterimage_save_state(handle, ""), AFTERIMAGE_INVALID_ARGUMENT, "path");
    EXPECT(afterimage_save_state(handle, "/nonexistent-folder/state"), AFTERIMAGE_IO_ERROR, "/nonexistent-folder/state");
    EXPECT(afterimage_load_state(NULL, NULL, &none), AFTERIMAGE_NULL_ARGUMENT, "path");
    EXPECT(afterimage_load_state("/nonexistent-folder/state", NULL, &none), AFTERIMAGE_IO_ERROR, "/nonexistent-folder/state");
    EXPECT(afterimage_state_size(handle, NULL), AFTERIMAGE_NULL_ARGUMENT, "size_out");
    EXPECT(afterimage_save_state_to_buffer(handle, NULL, 0, &length), AFTERIMAGE_NULL_ARGUMENT, "buffer");
    EXPECT(afterimage_save_state_to_buffer(handle, frame, 4, NULL), AFTERIMAGE_NULL_ARGUMENT, "written_out");
    EXPECT(afterimage_save_state_to_buffer(handle, frame, 4, &length), AFTERIMAGE_BUFFER_TOO_SMALL, "4 bytes");
    EXPECT(afterimage_load_state_from_buffer(NULL, 10, NULL, &none), AFTERIMAGE_NULL_ARGUMENT, "buffer");
    EXPECT(afterimage_load_state_from_buffer(frame, sizeof frame, NULL, &none), AFTERIMAGE_STATE_CORRUPT, "not an afterimage state");
    EXPECT(afterimage_load_state_from_buffer(frame, sizeof frame, NULL, NULL), AFTERIMAGE_NULL_ARGUMENT, "handle_out");

    EXPECT(afterimage_last_error(NULL, 0, &length), AFTERIMAGE_NULL_ARGUMENT, NULL);
    EXPECT(afterimage_last_error(text, 1, &length), AFTERIMAGE_BUFFER_TOO_SMALL, NULL);
    if (strcmp(afterimage_version(), AFTERIMAGE_VERSION) != 0 || afterimage_version_number() != AFTERIMAGE_VERSION_NUMBER) {
        fprintf(stderr, "FAIL: library version %s differs from header version %s\n", afterimage_version(), AFTERIMAGE_VERSION);
        failures++;
    }
    afterimage_free(NULL);

    afterimage_stats(handle, &stats);
    if (stats.vectors_processed != 0) {
        fprintf(stderr, "FAIL: failed calls changed the engine (%llu vectors)\n", (unsigned long long)stats.vectors_processed);
        failures++;
    }
    afterimage_free(handle);
    if (failures != 0) {
        fprintf(stderr, "boundary: %d checks failed\n", failures);
        return 1;
    }
    printf("boundary: every check passed\n");
    return 0;
}
