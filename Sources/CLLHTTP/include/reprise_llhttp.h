#ifndef REPRISE_LLHTTP_H
#define REPRISE_LLHTTP_H
// Reprise's interface to llhttp (reprise_llhttp.c): an opaque parser and plain callbacks, under
// names of its own, so that NIO's copy of llhttp and this one never meet in Swift.
#include <stddef.h>
#include <stdint.h>

// llhttp's codes that the caller acts on (llhttp_errno_t values).
#define REPRISE_LLHTTP_OK 0
#define REPRISE_LLHTTP_PAUSED 21
#define REPRISE_LLHTTP_PAUSED_UPGRADE 22

typedef enum reprise_llhttp_part {
    REPRISE_LLHTTP_METHOD = 0,
    REPRISE_LLHTTP_TARGET = 1,
    REPRISE_LLHTTP_VERSION = 2,
    REPRISE_LLHTTP_NAME = 3,
    REPRISE_LLHTTP_VALUE = 4,
} reprise_llhttp_part;

// Each returns 0 to go on, -1 to refuse the bytes, REPRISE_LLHTTP_PAUSED to stop after them.
typedef struct reprise_llhttp_handlers {
    int (*message_begin)(void *context);
    int (*span)(void *context, reprise_llhttp_part part, const char *at, size_t length);
    int (*part_complete)(void *context, reprise_llhttp_part part);
    int (*headers_complete)(void *context);
    int (*body)(void *context, const char *at, size_t length);
    int (*message_complete)(void *context);
} reprise_llhttp_handlers;

// What llhttp knows once a head is complete.
typedef struct reprise_llhttp_head_facts {
    uint64_t content_length;
    uint8_t method;
    uint8_t http_major;
    uint8_t http_minor;
    uint8_t has_content_length;
    uint8_t is_chunked;
    uint8_t is_upgrade;
    uint8_t keep_alive;
} reprise_llhttp_head_facts;

typedef struct reprise_llhttp reprise_llhttp;

// A strict request parser (no lenient flag) calling `handlers` with `context`.
reprise_llhttp *reprise_llhttp_create(const reprise_llhttp_handlers *handlers, void *context);
void reprise_llhttp_destroy(reprise_llhttp *parser);
// Parses `length` bytes; on a pause or an error, `*stopped_at` is the offset it stopped at.
int reprise_llhttp_execute(reprise_llhttp *parser, const char *data, size_t length, size_t *stopped_at);
void reprise_llhttp_resume(reprise_llhttp *parser);
// The connection ended: 0, or the error when it ended inside a request.
int reprise_llhttp_finish(reprise_llhttp *parser);
reprise_llhttp_head_facts reprise_llhttp_facts(const reprise_llhttp *parser);
// Forgets the body length of the request just completed (nodejs/llhttp#202, as NIO does).
void reprise_llhttp_clear_content_length(reprise_llhttp *parser);
const char *reprise_llhttp_reason(const reprise_llhttp *parser);
const char *reprise_llhttp_errno_name(int code);
const char *reprise_llhttp_method_name(uint8_t method);

#endif
