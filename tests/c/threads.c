/*
 * Four threads update one shared handle at once. Every vector has the same source
 * and timestamp, so the source's weight in the returned features (feature 0, no
 * decay between equal timestamps) counts the updates the lock admitted so far: it
 * gives each call's place in the serial order. A single-threaded replay in that
 * order must then return identical features for every vector, which fails if the
 * lock let two updates interleave.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afterimage.h"

#define THREADS 4
#define PER_THREAD 2500
#define TOTAL (THREADS * PER_THREAD)

static afterimage *shared;
static size_t feature_count;
static afterimage_vector vectors[TOTAL];
static double *features; /* TOTAL rows, indexed by vector */
static long admitted[TOTAL]; /* admission index of each vector */
static int failures;

static afterimage_address address(uint32_t kind, const uint8_t *bytes, uint32_t length) {
    afterimage_address result;
    memset(&result, 0, sizeof result);
    result.kind = kind;
    result.length = length;
    memcpy(result.bytes, bytes, length);
    return result;
}

static void make_vector(int index) {
    uint8_t src_mac[6] = {2, 0, 0, 0, 0, 1};
    uint8_t dst_mac[6] = {2, 0, 0, 0, 1, (uint8_t)(index % 7)};
    uint8_t src_ip[4] = {10, 0, 0, 1};
    uint8_t dst_ip[4] = {10, 0, 1, (uint8_t)(index % 13)};
    afterimage_vector *vector = &vectors[index];
    memset(vector, 0, sizeof *vector);
    vector->src_mac = address(AFTERIMAGE_ADDRESS_MAC, src_mac, 6);
    vector->dst_mac = address(AFTERIMAGE_ADDRESS_MAC, dst_mac, 6);
    vector->src_ip = address(AFTERIMAGE_ADDRESS_IPV4, src_ip, 4);
    vector->dst_ip = address(AFTERIMAGE_ADDRESS_IPV4, dst_ip, 4);
    vector->src_protocol.kind = AFTERIMAGE_PROTOCOL_PORT;
    vector->src_protocol.port = 40000;
    vector->dst_protocol.kind = AFTERIMAGE_PROTOCOL_PORT;
    vector->dst_protocol.port = (uint16_t)(index % 3 + 80);
    vector->timestamp = 1700000000.25;
    vector->size = (uint32_t)(60 + (index * 7919) % 1400);
}

static void *worker(void *argument) {
    int thread = (int)(long)argument;
    for (int i = 0; i < PER_THREAD; i++) {
        int index = thread * PER_THREAD + i;
        double *row = features + (size_t)index * feature_count;
        afterimage_status status = afterimage_update_vector(shared, &vectors[index], row, feature_count);
        if (status != AFTERIMAGE_OK) {
            fprintf(stderr, "thread %d: update %d returned %s\n", thread, i, afterimage_status_name((uint32_t)status));
            __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        admitted[index] = lround(row[0]) - 1;
    }
    return NULL;
}

int main(void) {
    afterimage_config config;
    if (afterimage_config_default(&config, sizeof config) != AFTERIMAGE_OK || afterimage_new(&config, &shared) != AFTERIMAGE_OK) {
        fprintf(stderr, "cannot create the handle\n");
        return 1;
    }
    afterimage_feature_count(shared, &feature_count);
    features = calloc((size_t)TOTAL * feature_count, sizeof *features);
    for (int i = 0; i < TOTAL; i++) {
        make_vector(i);
    }

    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) {
        pthread_create(&threads[t], NULL, worker, (void *)t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    if (failures != 0) {
        fprintf(stderr, "FAIL: %d updates failed\n", failures);
        return 1;
    }

    afterimage_database_stats stats;
    afterimage_stats(shared, &stats);
    if (stats.vectors_processed != TOTAL) {
        fprintf(stderr, "FAIL: vectors_processed is %llu, expected %d\n", (unsigned long long)stats.vectors_processed, TOTAL);
        return 1;
    }

    /* Invert the admission order; every place must be taken exactly once. */
    int *order = malloc(TOTAL * sizeof *order);
    for (int i = 0; i < TOTAL; i++) {
        order[i] = -1;
    }
    for (int index = 0; index < TOTAL; index++) {
        long place = admitted[index];
        if (place < 0 || place >= TOTAL || order[place] != -1) {
            fprintf(stderr, "FAIL: vector %d has admission place %ld, out of range or taken twice\n", index, place);
            return 1;
        }
        order[place] = index;
    }

    afterimage *replay;
    afterimage_new(&config, &replay);
    double *row = malloc(feature_count * sizeof *row);
    int interleaved_threads = 0;
    for (int place = 0; place < TOTAL; place++) {
        int index = order[place];
        if (place > 0 && order[place - 1] / PER_THREAD != index / PER_THREAD) {
            interleaved_threads++;
        }
        if (afterimage_update_vector(replay, &vectors[index], row, feature_count) != AFTERIMAGE_OK) {
            fprintf(stderr, "FAIL: replay of vector %d failed\n", index);
            return 1;
        }
        if (memcmp(row, features + (size_t)index * feature_count, feature_count * sizeof *row) != 0) {
            fprintf(stderr, "FAIL: replay of vector %d (place %d) differs from its threaded update\n", index, place);
            return 1;
        }
    }
    printf("threads: %d updates from %d threads, %d thread switches, replay identical\n", TOTAL, THREADS, interleaved_threads);

    free(row);
    free(order);
    free(features);
    afterimage_free(replay);
    afterimage_free(shared);
    return 0;
}
