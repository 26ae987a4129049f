#ifndef REPRISE_COPENSSL_SHIM_H
#define REPRISE_COPENSSL_SHIM_H
// System OpenSSL 3 (Debian's libssl-dev). Swift imports functions and simple constant macros
// only; every function-like macro we use gets one `static inline` wrapper here.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>

static inline void reprise_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }

// ---- RepriseTLS (contexts, connections, BIOs) ----
static inline long reprise_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) { return SSL_CTX_set_min_proto_version(ctx, version); }
static inline long reprise_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) { return SSL_CTX_set_max_proto_version(ctx, version); }
static inline long reprise_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_session_cache_mode(ctx, mode); }
static inline long reprise_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) { return SSL_CTX_set1_groups_list(ctx, list); }
static inline long reprise_SSL_CTX_add0_chain_cert(SSL_CTX *ctx, X509 *cert) { return SSL_CTX_add0_chain_cert(ctx, cert); }
static inline long reprise_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline uint64_t reprise_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t reprise_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t reprise_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline long reprise_BIO_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }
// A custom BIO over NIO buffers (RepriseTLS.ByteBufferBIO): its callbacks set and clear the
// retry flags, which OpenSSL reads to tell "no data yet" from end of file.
static inline void reprise_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void reprise_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
static inline long reprise_SSL_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }

#endif
