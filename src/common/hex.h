/* SPDX-License-Identifier: Apache-2.0 */
/* Lowercase hexadecimal, the one encoding of keys, pseudonyms and payloads
 * in m2m's text files, logs and command lines. */
#ifndef M2M_HEX_H
#define M2M_HEX_H

#include <stddef.h>
#include <stdint.h>

/* n bytes into out, which holds 2n + 1 (NUL-terminated). */
void m2m_hex(const uint8_t *p, size_t n, char *out);
/* Decodes slen hex digits (either case) into out; 0 on success, -1 when
 * slen is odd, a digit is not hex or the bytes exceed cap. */
int m2m_unhex(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len);
/* The position of the first character of s[0..slen) that is not a hex
 * digit, or slen: for error messages that point at it. */
size_t m2m_hex_span(const char *s, size_t slen);

#endif
