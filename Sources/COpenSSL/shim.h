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

#endif
