// Reprise's side of llhttp: owns one llhttp_t with its settings, forwards llhttp's callbacks to
// the handlers with their context. Debian's llhttp.h is included only here and in the Debian
// sources, never in a header Swift reads.
#include <stdlib.h>
#include "llhttp.h"
#include "reprise_llhttp.h"

struct reprise_llhttp {
    llhttp_t parser;
    llhttp_settings_t settings;
    const reprise_llhttp_handlers *handlers;
    void *context;
};

static struct reprise_llhttp *owner(llhttp_t *parser) { return (struct reprise_llhttp *)parser->data; }

#define SPAN(NAME, PART) \
    static int NAME(llhttp_t *p, const char *at, size_t length) { \
        return owner(p)->handlers->span(owner(p)->context, PART, at, length); \
    }
#define COMPLETE(NAME, PART) \
    static int NAME(llhttp_t *p) { return owner(p)->handlers->part_complete(owner(p)->context, PART); }

SPAN(on_method, REPRISE_LLHTTP_METHOD)
SPAN(on_url, REPRISE_LLHTTP_TARGET)
SPAN(on_version, REPRISE_LLHTTP_VERSION)
SPAN(on_header_field, REPRISE_LLHTTP_NAME)
SPAN(on_header_value, REPRISE_LLHTTP_VALUE)
COMPLETE(on_url_complete, REPRISE_LLHTTP_TARGET)
COMPLETE(on_header_field_complete, REPRISE_LLHTTP_NAME)
COMPLETE(on_header_value_complete, REPRISE_LLHTTP_VALUE)

static int on_message_begin(llhttp_t *p) { return owner(p)->handlers->message_begin(owner(p)->context); }
static int on_headers_complete(llhttp_t *p) { return owner(p)->handlers->headers_complete(owner(p)->context); }
static int on_message_complete(llhttp_t *p) { return owner(p)->handlers->message_complete(owner(p)->context); }
static int on_body(llhttp_t *p, const char *at, size_t length) {
    return owner(p)->handlers->body(owner(p)->context, at, length);
}

reprise_llhttp *reprise_llhttp_create(const reprise_llhttp_handlers *handlers, void *context) {
    struct reprise_llhttp *parser = malloc(sizeof(struct reprise_llhttp));
    if (parser == NULL) return NULL;
    llhttp_settings_init(&parser->settings);
    parser->settings.on_message_begin = on_message_begin;
    parser->settings.on_method = on_method;
    parser->settings.on_url = on_url;
    parser->settings.on_url_complete = on_url_complete;
    parser->settings.on_version = on_version;
    parser->settings.on_header_field = on_header_field;
    parser->settings.on_header_field_complete = on_header_field_complete;
    parser->settings.on_header_value = on_header_value;
    parser->settings.on_header_value_complete = on_header_value_complete;
    parser->settings.on_headers_complete = on_headers_complete;
    parser->settings.on_body = on_body;
    parser->settings.on_message_complete = on_message_complete;
    llhttp_init(&parser->parser, HTTP_REQUEST, &parser->settings);
    parser->parser.data = parser;
    parser->handlers = handlers;
    parser->context = context;
    return parser;
}

void reprise_llhttp_destroy(reprise_llhttp *parser) { free(parser); }

int reprise_llhttp_execute(reprise_llhttp *parser, const char *data, size_t length, size_t *stopped_at) {
    llhttp_errno_t code = llhttp_execute(&parser->parser, data, length);
    const char *position = llhttp_get_error_pos(&parser->parser);
    *stopped_at = (code != HPE_OK && position != NULL) ? (size_t)(position - data) : length;
    return (int)code;
}

void reprise_llhttp_resume(reprise_llhttp *parser) { llhttp_resume(&parser->parser); }

int reprise_llhttp_finish(reprise_llhttp *parser) { return (int)llhttp_finish(&parser->parser); }

reprise_llhttp_head_facts reprise_llhttp_facts(const reprise_llhttp *parser) {
    const llhttp_t *p = &parser->parser;
    reprise_llhttp_head_facts facts = {
        .content_length = p->content_length,
        .method = p->method,
        .http_major = p->http_major,
        .http_minor = p->http_minor,
        .has_content_length = (p->flags & F_CONTENT_LENGTH) != 0,
        .is_chunked = (p->flags & F_CHUNKED) != 0,
        .is_upgrade = p->upgrade != 0,
        .keep_alive = llhttp_should_keep_alive(p) != 0,
    };
    return facts;
}

void reprise_llhttp_clear_content_length(reprise_llhttp *parser) { parser->parser.content_length = 0; }

const char *reprise_llhttp_reason(const reprise_llhttp *parser) {
    return parser->parser.reason != NULL ? parser->parser.reason : "";
}

const char *reprise_llhttp_errno_name(int code) { return llhttp_errno_name((llhttp_errno_t)code); }

const char *reprise_llhttp_method_name(uint8_t method) { return llhttp_method_name((llhttp_method_t)method); }
