/*
 * tlsapi.h: the one place the examples choose their TLS library.
 *
 * The programs use only libtls's API, so the same source builds against
 * nbtls (<nbtls.h>, the default) and against Debian's libtls (<tls.h>, with
 * -DUSE_LIBTLS; `make LIBTLS=1`) for comparison.
 */
#ifndef EXAMPLES_TLSAPI_H
#define EXAMPLES_TLSAPI_H

#ifdef USE_LIBTLS
#include <tls.h>
#define TLSAPI_LIBRARY "libtls"
#else
#include <nbtls.h>
#define TLSAPI_LIBRARY "nbtls"
#endif

#endif
