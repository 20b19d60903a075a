/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the fault and abuse tests: their own m2md per test
 * (through tests/server/srvtest.c), enrolled module sets, the process's
 * memory, loopback sockets bound to chosen source addresses. */
#ifndef M2M_TEST_FAULTS_H
#define M2M_TEST_FAULTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/server/srvtest.h"

/* The UDP port of test k's m2md (metrics on the next one). */
int ft_port(int k);
/* st_start_m2md (which notes the pid for the cleanup); so that
 * run-fault-tests stops what a failed test left running. */
pid_t ft_start_m2md(const char *conf, int port, const char *extra);
/* Starts m2md whose PKCS#11 module is the test shim (forwarding to
 * SoftHSM2), its faults read from the control file ctl. */
pid_t ft_start_shim_m2md(const char *conf, int port, const char *ctl, const char *extra);
/* Resident and peak memory of a process, kB (VmRSS, VmHWM). */
long ft_rss_kb(pid_t pid, const char *field);
/* 1 while pid runs (not exited, not a zombie). */
int ft_alive(pid_t pid);
double ft_now(void);
/* p in [0,1] of a sorted array. */
double ft_percentile(double *v, size_t n, double p);
/* A UDP socket bound to 127.0.0.a, any port; -1 on error. */
int ft_udp_from(unsigned a);
void ft_sendto(int fd, int port, const uint8_t *buf, size_t len);
/* A valid HELLO (pseudonym random unless given) for the world's server key. */
size_t ft_hello(uint8_t *out, const uint8_t *pseudonym, size_t plen);

#endif
