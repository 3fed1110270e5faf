/*
 * Suricata 8 plugin: AfterImage (Kitsune) features for every captured packet.
 *
 * A packet logger passes each packet read from the wire to afterimage with its frame
 * bytes, link type and timestamp. Pseudo packets and tunnel or defragmentation children
 * are left out. The plugin writes the same tables as `afterimage extract`: a feature
 * table (CSV with Python repr() floats, or a float64 .npy array) and a meta CSV of the
 * traffic vectors. Settings come from the `afterimage:` section of suricata.yaml (see
 * README.md).
 */
#include "suricata-common.h"
#include "suricata-plugin.h"

#include "conf.h"
#include "decode.h"
#include "output-packet.h"
#include "output.h"
#include "threadvars.h"
#include "util-conf.h"
#include "util-debug.h"
#include "util-time.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>

#include "afterimage.h"

#define PLUGIN_NAME "afterimage"
#define PLUGIN_VERSION "0.1.0"
#define CONF_SECTION "afterimage"

/* Maximum bytes per feature value in a CSV row: the longest Python repr() float and a comma. */
#define FEATURE_TEXT_MAX 25
/* Initial meta row buffer: enough unless raw addresses exceed 16 bytes, and FormatMeta grows it then. */
#define META_TEXT_START 4096
/* Bytes reserved for the .npy header, the same as `afterimage extract` writes. */
#define NPY_HEADER_LEN 128
#define MAX_DECAY_FACTORS 64

typedef enum { FORMAT_CSV, FORMAT_NPY } OutputFormat;

/* Settings read once from suricata.yaml. */
typedef struct Settings_ {
    bool enabled;
    char *filename;   /* feature table, resolved against the log directory */
    OutputFormat format;
    bool meta;        /* write NAME_meta.csv beside the feature table */
    double decay_factors[MAX_DECAY_FACTORS];
    size_t decay_factor_count;
    uint64_t record_limit;
    uint32_t limit_policy;
    uint64_t cleaning_interval;
    uint64_t preallocate; /* records whose memory each engine maps at start, 0 for none */
    bool per_thread;
    char *state_file; /* saved at shutdown when set */
    bool resume;      /* load state_file at start when it exists */
    char *error;      /* the first invalid setting found, which stops Suricata at startup */
} Settings;

/* One engine with its output files. Shared by all workers or owned by one. */
typedef struct Sink_ {
    afterimage *engine;
    size_t feature_count;
    FILE *features;
    FILE *meta;
    char *features_path;
    char *meta_path;
    char *state_path;
    uint64_t rows;
    bool write_failed;
    bool update_failed;
} Sink;

/* Per worker thread: buffers and counters. */
typedef struct ThreadData_ {
    Sink *sink;
    bool owns_sink;
    unsigned index;
    double *row;
    char *feature_text;
    size_t feature_text_length;
    char *meta_text;
    size_t meta_text_length;
    uint8_t raw_storage[AFTERIMAGE_RAW_STORAGE_MAX];
    uint64_t read;
    uint64_t written;
    uint64_t no_vector;
    uint64_t record_limit;
    uint64_t errors;
} ThreadData;

static Settings settings;

/* Guards everything below, and every use of the shared sink. */
static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
static Sink *shared_sink;
static unsigned threads_started;
static unsigned threads_running;
static unsigned sinks_opened;
static uint64_t total_read, total_written, total_no_vector, total_record_limit, total_errors;

/* ------------------------------------------------------------------ helpers */

static char *Format(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *Format(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = NULL;
    if (vasprintf(&text, format, args) < 0) {
        text = NULL;
    }
    va_end(args);
    return text;
}

/* The message of the latest failed afterimage call on this thread. */
static const char *LastError(void)
{
    static __thread char message[1024];
    if (afterimage_last_error(message, sizeof message, NULL) != AFTERIMAGE_OK) {
        snprintf(message, sizeof message, "(message longer than %zu bytes)", sizeof message);
    }
    return message;
}

/* `path` resolved against Suricata's log directory unless it is absolute. */
static char *ResolvePath(const char *path)
{
    if (path[0] == '/') {
        return strdup(path);
    }
    return Format("%s/%s", SCConfigGetLogDirectory(), path);
}

/* Inserts "-N" before the extension of the file name: "afterimage.csv" -> "afterimage-2.csv". */
static char *NumberedPath(const char *path, unsigned number)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot == NULL || (slash != NULL && dot < slash) || dot == (slash ? slash + 1 : path)) {
        return Format("%s-%u", path, number);
    }
    return Format("%.*s-%u%s", (int)(dot - path), path, number, dot);
}

/* The meta table's path, as `afterimage extract` names it: the feature table's stem + "_meta.csv". */
static char *MetaPath(const char *features_path)
{
    const char *slash = strrchr(features_path, '/');
    const char *dot = strrchr(features_path, '.');
    if (dot == NULL || (slash != NULL && dot < slash) || dot == (slash ? slash + 1 : features_path)) {
        return Format("%s_meta.csv", features_path);
    }
    return Format("%.*s_meta.csv", (int)(dot - features_path), features_path);
}

static void SetError(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void SetError(const char *format, ...)
{
    if (settings.error != NULL) {
        return;
    }
    va_list args;
    va_start(args, format);
    if (vasprintf(&settings.error, format, args) < 0) {
        settings.error = NULL;
    }
    va_end(args);
}

static bool ParseUnsigned(const char *key, const char *text, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        SetError("%s.%s is \"%s\"; expected a whole number", CONF_SECTION, key, text);
        return false;
    }
    *value = (uint64_t)parsed;
    return true;
}

static bool AddDecayFactor(const char *text)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    while (end != NULL && (*end == ' ' || *end == '\t')) {
        end++;
    }
    if (errno != 0 || end == text || *end != '\0' || !isfinite(value) || value <= 0) {
        SetError("%s.decay-factors: \"%s\" is not a number above 0", CONF_SECTION, text);
        return false;
    }
    if (settings.decay_factor_count == MAX_DECAY_FACTORS) {
        SetError("%s.decay-factors: at most %d factors", CONF_SECTION, MAX_DECAY_FACTORS);
        return false;
    }
    settings.decay_factors[settings.decay_factor_count++] = value;
    return true;
}

/* Reads the `afterimage:` section. A missing section means the defaults. */
static void ReadSettings(void)
{
    memset(&settings, 0, sizeof settings);
    settings.enabled = true;
    settings.format = FORMAT_CSV;
    settings.meta = true;
    settings.limit_policy = AFTERIMAGE_LIMIT_REJECT;

    afterimage_config defaults;
    if (afterimage_config_default(&defaults, sizeof defaults) != AFTERIMAGE_OK) {
        SetError("afterimage_config_default failed: %s; is libafterimage the version of afterimage.h?",
                LastError());
        return;
    }
    settings.cleaning_interval = defaults.cleaning_interval;

    SCConfNode *section = SCConfGetNode(CONF_SECTION);
    const char *value = NULL;
    int flag = 0;

    if (section != NULL && SCConfGetChildValueBool(section, "enabled", &flag) == 1) {
        settings.enabled = flag != 0;
    }

    if (section != NULL && SCConfGetChildValue(section, "format", &value) == 1) {
        if (strcmp(value, "csv") == 0) {
            settings.format = FORMAT_CSV;
        } else if (strcmp(value, "npy") == 0) {
            settings.format = FORMAT_NPY;
        } else {
            SetError("%s.format is \"%s\"; use csv or npy", CONF_SECTION, value);
        }
    }
    const char *filename = settings.format == FORMAT_NPY ? "afterimage.npy" : "afterimage.csv";
    if (section != NULL && SCConfGetChildValue(section, "filename", &value) == 1) {
        if (value[0] == '\0') {
            SetError("%s.filename is empty", CONF_SECTION);
        }
        filename = value;
    }
    settings.filename = strdup(filename);

    if (section != NULL && SCConfGetChildValueBool(section, "meta", &flag) == 1) {
        settings.meta = flag != 0;
    }

    SCConfNode *decay = section ? SCConfNodeLookupChild(section, "decay-factors") : NULL;
    if (decay != NULL && decay->is_seq) {
        SCConfNode *item;
        TAILQ_FOREACH (item, &decay->head, next) {
            if (item->val == NULL || !AddDecayFactor(item->val)) {
                if (item->val == NULL) {
                    SetError("%s.decay-factors must be a list of numbers", CONF_SECTION);
                }
                break;
            }
        }
    } else if (decay != NULL && decay->val != NULL) {
        /* A comma-separated string, as given with --set afterimage.decay-factors=5,3,1. */
        char *copy = strdup(decay->val);
        char *save = NULL;
        for (char *part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
            while (*part == ' ') {
                part++;
            }
            if (!AddDecayFactor(part)) {
                break;
            }
        }
        free(copy);
    }
    if (settings.decay_factor_count == 0 && settings.error == NULL) {
        if (decay != NULL) {
            SetError("%s.decay-factors is empty", CONF_SECTION);
        }
        for (size_t i = 0; i < defaults.decay_factor_count && i < MAX_DECAY_FACTORS; i++) {
            settings.decay_factors[settings.decay_factor_count++] = defaults.decay_factors[i];
        }
    }

    if (section != NULL && SCConfGetChildValue(section, "record-limit", &value) == 1) {
        ParseUnsigned("record-limit", value, &settings.record_limit);
    }
    if (section != NULL && SCConfGetChildValue(section, "limit-policy", &value) == 1) {
        if (strcmp(value, "reject") == 0) {
            settings.limit_policy = AFTERIMAGE_LIMIT_REJECT;
        } else if (strcmp(value, "evict") == 0) {
            settings.limit_policy = AFTERIMAGE_LIMIT_EVICT;
        } else {
            SetError("%s.limit-policy is \"%s\"; use reject or evict", CONF_SECTION, value);
        }
    }
    if (section != NULL && SCConfGetChildValue(section, "cleaning-interval", &value) == 1) {
        ParseUnsigned("cleaning-interval", value, &settings.cleaning_interval);
    }
    if (section != NULL && SCConfGetChildValue(section, "preallocate", &value) == 1) {
        ParseUnsigned("preallocate", value, &settings.preallocate);
    }

    if (section != NULL && SCConfGetChildValue(section, "threads", &value) == 1) {
        if (strcmp(value, "shared") == 0) {
            settings.per_thread = false;
        } else if (strcmp(value, "per-thread") == 0) {
            settings.per_thread = true;
        } else {
            SetError("%s.threads is \"%s\"; use shared or per-thread", CONF_SECTION, value);
        }
    }

    if (section != NULL && SCConfGetChildValue(section, "state-file", &value) == 1 && value[0] != '\0') {
        settings.state_file = strdup(value);
    }
    if (section != NULL && SCConfGetChildValueBool(section, "resume", &flag) == 1) {
        settings.resume = flag != 0;
        if (settings.resume && settings.state_file == NULL) {
            SetError("%s.resume is set but %s.state-file is not", CONF_SECTION, CONF_SECTION);
        }
    }
}

/* ------------------------------------------------------------------ output files */

static bool WriteNpyHeader(FILE *file, uint64_t rows, size_t columns)
{
    char header[NPY_HEADER_LEN];
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (char)((NPY_HEADER_LEN - 10) & 0xff);
    header[9] = (char)((NPY_HEADER_LEN - 10) >> 8);
    int length = snprintf(header + 10, NPY_HEADER_LEN - 10,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (%" PRIu64 ", %zu), }", rows, columns);
    if (length < 0 || length > NPY_HEADER_LEN - 11) {
        return false;
    }
    memset(header + 10 + length, ' ', (size_t)(NPY_HEADER_LEN - 11 - length));
    header[NPY_HEADER_LEN - 1] = '\n';
    return fwrite(header, 1, sizeof header, file) == sizeof header;
}

static FILE *OpenOutput(const char *path)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        SCLogError("failed to create %s: %s; check that the folder exists and is writable", path,
                strerror(errno));
        return NULL;
    }
    setvbuf(file, NULL, _IOFBF, 1 << 20);
    return file;
}

static void SinkClose(Sink *sink)
{
    if (sink == NULL) {
        return;
    }
    if (sink->features != NULL) {
        bool ok = true;
        if (settings.format == FORMAT_NPY) {
            ok = fflush(sink->features) == 0 && fseek(sink->features, 0, SEEK_SET) == 0 &&
                 WriteNpyHeader(sink->features, sink->rows, sink->feature_count);
        }
        if (fclose(sink->features) != 0 || !ok || sink->write_failed) {
            SCLogError("writing %s failed, so the file is incomplete", sink->features_path);
        }
    }
    if (sink->meta != NULL && fclose(sink->meta) != 0) {
        SCLogError("writing %s failed, so the file is incomplete", sink->meta_path);
    }
    if (sink->engine != NULL && sink->state_path != NULL) {
        afterimage_status status = afterimage_save_state(sink->engine, sink->state_path);
        if (status == AFTERIMAGE_OK) {
            SCLogNotice("saved the state to %s", sink->state_path);
        } else {
            SCLogError("failed to save the state to %s: %s", sink->state_path, LastError());
        }
    }
    afterimage_free(sink->engine);
    free(sink->features_path);
    free(sink->meta_path);
    free(sink->state_path);
    free(sink);
}

/* Creates an engine and its files. `number` is 0 for the shared sink, else the worker's number. */
static Sink *SinkOpen(unsigned number)
{
    Sink *sink = calloc(1, sizeof *sink);
    if (sink == NULL) {
        return NULL;
    }
    char *base = ResolvePath(settings.filename);
    sink->features_path = number == 0 ? base : NumberedPath(base, number);
    if (number != 0) {
        free(base);
    }
    sink->meta_path = MetaPath(sink->features_path);
    if (settings.state_file != NULL) {
        char *state = ResolvePath(settings.state_file);
        sink->state_path = number == 0 ? state : NumberedPath(state, number);
        if (number != 0) {
            free(state);
        }
    }

    afterimage_config config;
    afterimage_config_default(&config, sizeof config);
    config.decay_factors = settings.decay_factors;
    config.decay_factor_count = settings.decay_factor_count;
    config.record_limit = settings.record_limit;
    config.limit_policy = settings.limit_policy;
    config.cleaning_interval = settings.cleaning_interval;

    afterimage_status status;
    if (settings.resume && access(sink->state_path, F_OK) == 0) {
        status = afterimage_load_state(sink->state_path, &config, &sink->engine);
        if (status != AFTERIMAGE_OK) {
            SCLogError("failed to load the state from %s: %s; remove the file or set resume: no",
                    sink->state_path, LastError());
            goto fail;
        }
        SCLogNotice("resumed from %s", sink->state_path);
    } else {
        status = afterimage_new(&config, &sink->engine);
        if (status != AFTERIMAGE_OK) {
            SCLogError("invalid settings: %s", LastError());
            goto fail;
        }
    }
    if (settings.preallocate > 0 && afterimage_preallocate(sink->engine, settings.preallocate) != AFTERIMAGE_OK) {
        SCLogError("%s.preallocate: %s", CONF_SECTION, LastError());
        goto fail;
    }
    if (afterimage_feature_count(sink->engine, &sink->feature_count) != AFTERIMAGE_OK) {
        SCLogError("%s", LastError());
        goto fail;
    }

    sink->features = OpenOutput(sink->features_path);
    if (sink->features == NULL) {
        goto fail;
    }
    if (settings.format == FORMAT_NPY) {
        if (!WriteNpyHeader(sink->features, 0, sink->feature_count)) {
            sink->write_failed = true;
        }
    } else {
        for (size_t i = 0; i < sink->feature_count; i++) {
            char name[64];
            if (afterimage_feature_name(sink->engine, i, name, sizeof name, NULL) != AFTERIMAGE_OK) {
                SCLogError("%s", LastError());
                goto fail;
            }
            fprintf(sink->features, "%s%s", i > 0 ? "," : "", name);
        }
        fputc('\n', sink->features);
    }
    if (settings.meta) {
        sink->meta = OpenOutput(sink->meta_path);
        if (sink->meta == NULL) {
            goto fail;
        }
        fputs("ip_type,src_mac,dst_mac,src_ip,src_protocol,dst_ip,dst_protocol,time_stamp,packet_size\n",
                sink->meta);
    }
    SCLogInfo("writing %s%s%s (%zu features per packet)", sink->features_path,
            settings.meta ? " and " : "", settings.meta ? sink->meta_path : "", sink->feature_count);
    return sink;

fail:
    SinkClose(sink);
    return NULL;
}

/* ------------------------------------------------------------------ packet logger */

static bool ConditionWire(ThreadVars *tv, void *thread_data, const Packet *p)
{
    return p->pkt_src == PKT_SRC_WIRE;
}

/* Formats a meta row into the thread's buffer, growing it for rows with long raw addresses. */
static bool FormatMeta(ThreadData *td, const afterimage_vector *vector, size_t *length)
{
    afterimage_status status = afterimage_format_meta_row(vector, td->meta_text, td->meta_text_length, length);
    if (status == AFTERIMAGE_BUFFER_TOO_SMALL) {
        char *larger = realloc(td->meta_text, *length + 1);
        if (larger == NULL) {
            return false;
        }
        td->meta_text = larger;
        td->meta_text_length = *length + 1;
        status = afterimage_format_meta_row(vector, td->meta_text, td->meta_text_length, length);
    }
    return status == AFTERIMAGE_OK;
}

/* Updates the sink's engine and appends the rows. The caller holds the lock of a shared sink. */
static void UpdateAndWrite(ThreadData *td, Sink *sink, const afterimage_vector *vector)
{
    afterimage_status status = afterimage_update_vector(sink->engine, vector, td->row, sink->feature_count);
    if (status == AFTERIMAGE_RECORD_LIMIT) {
        td->record_limit++;
        return;
    }
    if (status != AFTERIMAGE_OK) {
        td->errors++;
        if (!sink->update_failed) {
            sink->update_failed = true;
            SCLogError("update failed (%s): %s; counting such packets as errors", afterimage_status_name((uint32_t)status), LastError());
        }
        return;
    }
    bool ok = true;
    if (settings.format == FORMAT_NPY) {
        ok = fwrite(td->row, sizeof(double), sink->feature_count, sink->features) == sink->feature_count;
    } else {
        size_t length = 0;
        ok = afterimage_format_features(td->row, sink->feature_count, td->feature_text,
                     td->feature_text_length, &length) == AFTERIMAGE_OK &&
             fwrite(td->feature_text, 1, length, sink->features) == length;
    }
    if (ok && sink->meta != NULL) {
        size_t length = 0;
        ok = FormatMeta(td, vector, &length) && fwrite(td->meta_text, 1, length, sink->meta) == length;
    }
    if (!ok && !sink->write_failed) {
        sink->write_failed = true;
        SCLogError("failed to write to %s: %s", sink->features_path, strerror(errno));
    }
    sink->rows++;
    td->written++;
}

static int LogPacket(ThreadVars *tv, void *thread_data, const Packet *p)
{
    ThreadData *td = thread_data;
    td->read++;

    /* A capture record can hold a fraction of one second or more; like `afterimage
     * extract`, carry it into the seconds rather than reject the packet. */
    uint64_t seconds = (uint64_t)SCTIME_SECS(p->ts);
    uint64_t microseconds = (uint64_t)SCTIME_USECS(p->ts);
    seconds += microseconds / 1000000;
    microseconds %= 1000000;

    afterimage_vector vector;
    afterimage_status status = afterimage_parse_packet((uint32_t)p->datalink, GET_PKT_DATA(p),
            GET_PKT_LEN(p), seconds, microseconds, 6, &vector, td->raw_storage, sizeof td->raw_storage);
    if (status == AFTERIMAGE_SKIPPED_PACKET) {
        td->no_vector++;
        return 0;
    }
    if (status != AFTERIMAGE_OK) {
        if (td->errors++ == 0) {
            SCLogError("%s: failed to parse a packet (%s): %s; counting such packets as errors", tv->name,
                    afterimage_status_name((uint32_t)status), LastError());
        }
        return 0;
    }

    if (td->owns_sink) {
        UpdateAndWrite(td, td->sink, &vector);
    } else {
        /* One lock around the update and the writes keeps the rows in update order. */
        pthread_mutex_lock(&plugin_lock);
        UpdateAndWrite(td, td->sink, &vector);
        pthread_mutex_unlock(&plugin_lock);
    }
    return 0;
}

static void ThreadDataFree(ThreadData *td)
{
    if (td == NULL) {
        return;
    }
    free(td->row);
    free(td->feature_text);
    free(td->meta_text);
    free(td);
}

static TmEcode ThreadInit(ThreadVars *tv, const void *initdata, void **thread_data)
{
    *thread_data = NULL;
    ThreadData *td = calloc(1, sizeof *td);
    if (td == NULL) {
        return TM_ECODE_FAILED;
    }

    pthread_mutex_lock(&plugin_lock);
    td->index = ++threads_started;
    if (settings.per_thread) {
        td->sink = SinkOpen(td->index);
        td->owns_sink = true;
        if (td->sink != NULL) {
            sinks_opened++;
        }
    } else {
        if (shared_sink == NULL) {
            shared_sink = SinkOpen(0);
            if (shared_sink != NULL) {
                sinks_opened++;
            }
        }
        td->sink = shared_sink;
    }
    if (td->sink != NULL) {
        threads_running++;
    }
    pthread_mutex_unlock(&plugin_lock);

    if (td->sink == NULL) {
        /* Suricata would keep running without this logger, so stop it (the cause is logged). */
        FatalError("worker %s cannot start the afterimage logger", tv->name);
    }
    size_t count = td->sink->feature_count;
    td->row = calloc(count, sizeof(double));
    td->feature_text_length = count * FEATURE_TEXT_MAX + 1;
    td->feature_text = malloc(td->feature_text_length);
    td->meta_text_length = META_TEXT_START;
    td->meta_text = malloc(td->meta_text_length);
    if (td->row == NULL || td->feature_text == NULL || td->meta_text == NULL) {
        /* Leave the sink counted: ThreadDeinit is not called, so close it here. */
        pthread_mutex_lock(&plugin_lock);
        threads_running--;
        if (td->owns_sink) {
            SinkClose(td->sink);
        }
        pthread_mutex_unlock(&plugin_lock);
        ThreadDataFree(td);
        return TM_ECODE_FAILED;
    }
    *thread_data = td;
    return TM_ECODE_OK;
}

static TmEcode ThreadDeinit(ThreadVars *tv, void *thread_data)
{
    ThreadData *td = thread_data;
    if (td == NULL) {
        return TM_ECODE_OK;
    }
    uint64_t skipped = td->no_vector + td->record_limit;
    SCLogInfo("%s: read %" PRIu64 " packets, wrote %" PRIu64 " rows, skipped %" PRIu64
              " (no vector %" PRIu64 ", record limit %" PRIu64 "), errors %" PRIu64,
            tv->name, td->read, td->written, skipped, td->no_vector, td->record_limit,
            td->errors);

    pthread_mutex_lock(&plugin_lock);
    total_read += td->read;
    total_written += td->written;
    total_no_vector += td->no_vector;
    total_record_limit += td->record_limit;
    total_errors += td->errors;
    if (td->owns_sink) {
        SinkClose(td->sink);
    }
    threads_running--;
    if (threads_running == 0) {
        if (shared_sink != NULL) {
            SinkClose(shared_sink);
            shared_sink = NULL;
        }
        SCLogNotice("read %" PRIu64 " packets, wrote %" PRIu64 " rows, skipped %" PRIu64
                    " (no vector %" PRIu64 ", record limit %" PRIu64 "), errors %" PRIu64
                    ", %u worker thread(s), %u engine(s)",
                total_read, total_written, total_no_vector + total_record_limit,
                total_no_vector, total_record_limit, total_errors, threads_started, sinks_opened);
    }
    pthread_mutex_unlock(&plugin_lock);
    ThreadDataFree(td);
    return TM_ECODE_OK;
}

/* ------------------------------------------------------------------ registration */

static void OnLoggingReady(void *arg)
{
    ReadSettings();
    if (settings.error != NULL) {
        FatalError("%s; fix the afterimage: section of suricata.yaml", settings.error);
    }
    if (!settings.enabled) {
        SCLogInfo("disabled in suricata.yaml");
        return;
    }
    if (strcmp(afterimage_version(), AFTERIMAGE_VERSION) != 0) {
        SCLogWarning("built with afterimage.h %s but loaded libafterimage %s", AFTERIMAGE_VERSION, afterimage_version());
    }
    SCOutputRegisterPacketLogger(LOGGER_USER, PLUGIN_NAME, LogPacket, ConditionWire, NULL, ThreadInit,
            ThreadDeinit);
    SCLogInfo("%s thread mode, %zu decay factors, %s output", settings.per_thread ? "per-thread" : "shared", settings.decay_factor_count,
            settings.format == FORMAT_NPY ? "npy" : "csv");
}

static void PluginInit(void)
{
    SCRegisterOnLoggingReady(OnLoggingReady, NULL);
}

const SCPlugin PluginRegistration = {
    .version = SC_API_VERSION,
    .suricata_version = SC_PACKAGE_VERSION,
    .name = PLUGIN_NAME,
    .plugin_version = PLUGIN_VERSION,
    .license = "MIT OR Apache-2.0",
    .author = "afterimage contributors",
    .Init = PluginInit,
};

const SCPlugin *SCPluginRegister(void)
{
    return &PluginRegistration;
}
