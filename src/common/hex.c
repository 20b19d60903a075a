/* SPDX-License-Identifier: Apache-2.0 */
/* Hexadecimal encoding (see hex.h). */
#include "config.h"

#include "src/common/hex.h"

void
m2m_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
m2m_unhex(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *len)
{
	if (slen % 2 != 0 || slen / 2 > cap)
		return -1;
	for (size_t i = 0; i < slen / 2; i++) {
		int hi = digit((unsigned char)s[2 * i]), lo = digit((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = slen / 2;
	return 0;
}

size_t
m2m_hex_span(const char *s, size_t slen)
{
	size_t i = 0;

	while (i < slen && digit((unsigned char)s[i]) >= 0)
		i++;
	return i;
}
