/* bench_util.h: what the benches (roombench, ratebench, fecbench,
 * sendbench) share: dying with a reason, a loopback UDP socket with room
 * for bursts, and the median of a run's figures. */
#ifndef TUTTI_BENCH_UTIL_H
#define TUTTI_BENCH_UTIL_H

#include <netinet/in.h>
#include <stddef.h>

/* Prints "<program>: what: strerror(errno)" and exits 1. */
void bench_die(const char *what) __attribute__((noreturn));
/* A non-blocking UDP socket on 127.0.0.1, any port (in addr), with 4 MiB
 * send and receive buffers; dies on failure. */
int bench_udp_socket(struct sockaddr_in *addr);
/* The median of v[0..n-1] (sorts v); n > 0. */
double bench_median(double *v, size_t n);

#endif
