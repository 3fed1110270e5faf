/*
 * Reads a capture with libpcap and prints the AfterImage feature CSV: a header of
 * feature names, then one row per packet that has an IPv4, IPv6 or ARP layer.
 * Usage: extract CAPTURE.pcap > features.csv
 */
/* libpcap's headers use the BSD types u_char and u_int, which strict C99 hides. */
#define _DEFAULT_SOURCE
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "afterimage.h"

static int fail(const char *what, afterimage_status status) {
    char message[1024];
    if (afterimage_last_error(message, sizeof message, NULL) != AFTERIMAGE_OK) {
        message[0] = '\0';
    }
    fprintf(stderr, "extract: %s failed with %s: %s\n", what, afterimage_status_name((uint32_t)status), message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
        return 2;
    }

    /* Nanosecond precision keeps nanosecond files exact; microsecond files are scaled. */
    char pcap_error[PCAP_ERRBUF_SIZE];
    pcap_t *capture = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, pcap_error);
    if (capture == NULL) {
        fprintf(stderr, "extract: cannot open %s: %s\n", argv[1], pcap_error);
        return 1;
    }
    uint32_t link_type = (uint32_t)pcap_datalink(capture);

    afterimage_config config;
    afterimage_status status = afterimage_config_default(&config, sizeof config);
    if (status != AFTERIMAGE_OK) {
        pcap_close(capture);
        return fail("afterimage_config_default", status);
    }
    afterimage *engine = NULL;
    status = afterimage_new(&config, &engine);
    if (status != AFTERIMAGE_OK) {
        pcap_close(capture);
        return fail("afterimage_new", status);
    }

    size_t count = 0;
    afterimage_feature_count(engine, &count);
    for (size_t i = 0; i < count; i++) {
        char name[64];
        status = afterimage_feature_name(engine, i, name, sizeof name, NULL);
        if (status != AFTERIMAGE_OK) {
            afterimage_free(engine);
            pcap_close(capture);
            return fail("afterimage_feature_name", status);
        }
        printf("%s%s", i ? "," : "", name);
    }
    printf("\n");

    double *features = malloc(count * sizeof *features);
    int exit_code = 0;
    struct pcap_pkthdr *header;
    const u_char *frame;
    int read_status;
    while (features != NULL && (read_status = pcap_next_ex(capture, &header, &frame)) == 1) {
        status = afterimage_update_packet(engine, link_type, frame, header->caplen, (uint64_t)header->ts.tv_sec,
                                          (uint64_t)header->ts.tv_usec, 9, features, count);
        if (status == AFTERIMAGE_SKIPPED_PACKET || status == AFTERIMAGE_RECORD_LIMIT) {
            continue;
        }
        if (status != AFTERIMAGE_OK) {
            exit_code = fail("afterimage_update_packet", status);
            break;
        }
        for (size_t i = 0; i < count; i++) {
            printf("%s%.17g", i ? "," : "", features[i]);
        }
        printf("\n");
    }
    if (features == NULL) {
        fprintf(stderr, "extract: out of memory\n");
        exit_code = 1;
    } else if (exit_code == 0 && read_status == PCAP_ERROR) {
        fprintf(stderr, "extract: %s: %s\n", argv[1], pcap_geterr(capture));
        exit_code = 1;
    }

    free(features);
    afterimage_free(engine);
    pcap_close(capture);
    return exit_code;
}
