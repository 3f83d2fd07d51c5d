/*
 * tls.h for programs written against libtls: nbtls implements the same API.
 * Build with -I<prefix>/include (before the system's include directory) and link -lnbtls.
 */
#ifndef NBTLS_TLS_H
#define NBTLS_TLS_H
#include "nbtls.h"
#endif
