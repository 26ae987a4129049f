#ifndef REPRISE_CHIREDIS_SHIM_H
#define REPRISE_CHIREDIS_SHIM_H
// Debian's libhiredis-dev 0.14.1. Its pkg-config file adds -D_FILE_OFFSET_BITS=64, which
// SwiftPM refuses, so this module links hiredis directly and includes the headers itself.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

// `redisReaderGetError` is a macro; Swift cannot import it.
static inline const char *reprise_redisReaderGetError(redisReader *reader) {
    return reader->errstr;
}
#endif
