#ifndef REPRISE_CHIREDIS_SHIM_H
#define REPRISE_CHIREDIS_SHIM_H
// Debian's libhiredis-dev 0.14.1. Its pkg-config file adds -D_FILE_OFFSET_BITS=64, which
// SwiftPM refuses, so this module links hiredis directly and includes the headers itself.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdlib.h>
#include <string.h>

// `redisReaderGetError` is a macro; Swift cannot import it.
static inline const char *reprise_redisReaderGetError(redisReader *reader) {
    return reader->errstr;
}

// hiredis 0.14.1 has no `maxelements`: a reply header `*2000000000` makes the default
// createArray calloc gigabytes. A bounded reader wraps the default object functions and
// refuses arrays above a limit (returning NULL makes hiredis stop with an error). The limits
// travel in the reader's privdata, which 0.14.1 copies into every read task.
typedef struct reprise_reader_bounds {
    redisReplyObjectFunctions functions;
    void *(*defaultCreateArray)(const redisReadTask *, int);
    long long maxArrayElements;
    int arrayLimitExceeded;
} reprise_reader_bounds;

static inline void *reprise_boundedCreateArray(const redisReadTask *task, int elements) {
    reprise_reader_bounds *bounds = (reprise_reader_bounds *)task->privdata;
    if (bounds == NULL) return NULL;
    if ((long long)elements > bounds->maxArrayElements) {
        bounds->arrayLimitExceeded = 1;
        return NULL;
    }
    return bounds->defaultCreateArray(task, elements);
}

static inline redisReader *reprise_redisReaderCreateBounded(long long maxArrayElements) {
    redisReader *reader = redisReaderCreate();
    if (reader == NULL) return NULL;
    reprise_reader_bounds *bounds = (reprise_reader_bounds *)calloc(1, sizeof(reprise_reader_bounds));
    if (bounds == NULL) {
        redisReaderFree(reader);
        return NULL;
    }
    memcpy(&bounds->functions, reader->fn, sizeof(redisReplyObjectFunctions));
    bounds->defaultCreateArray = reader->fn->createArray;
    bounds->functions.createArray = reprise_boundedCreateArray;
    bounds->maxArrayElements = maxArrayElements;
    reader->fn = &bounds->functions;
    reader->privdata = bounds;
    return reader;
}

static inline int reprise_redisReaderArrayLimitExceeded(redisReader *reader) {
    reprise_reader_bounds *bounds = (reprise_reader_bounds *)reader->privdata;
    return bounds != NULL && bounds->arrayLimitExceeded;
}

// Bytes fed but not yet consumed by a complete reply: how large the reply being read has grown.
static inline size_t reprise_redisReaderBufferedBytes(redisReader *reader) {
    return reader->len - reader->pos;
}

static inline void reprise_redisReaderFreeBounded(redisReader *reader) {
    if (reader == NULL) return;
    void *bounds = reader->privdata;
    // redisReaderFree frees a pending partial reply through reader->fn, which lives in bounds.
    redisReaderFree(reader);
    free(bounds);
}
#endif
