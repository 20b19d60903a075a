/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 7512 PKCS#11 URIs: pkcs11:token=m2m;object=server-2026?pin-source=...
 * The path picks the token and the key; a PIN value in a URI is refused. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [s, s+n) into out (outlen bytes); -1 if malformed or long. */
static long
pct_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (o >= outlen)
			return -1;
		out[o++] = (uint8_t)c;
	}
	return (long)o;
}

/* A string attribute: decoded, NUL-terminated, no embedded NUL. */
static int
pct_string(const char *s, size_t n, char *out, size_t outlen)
{
	long len = pct_decode(s, n, (uint8_t *)out, outlen - 1);

	if (len < 0 || memchr(out, '\0', (size_t)len) != NULL)
		return -1;
	out[len] = '\0';
	return 0;
}

static enum m2m_err
path_attr(const char *a, size_t alen, const char *v, size_t vlen, struct hsm_uri *u)
{
	long idlen;

#define IS(name) (alen == strlen(name) && memcmp(a, name, alen) == 0)
	if (IS("token"))
		return pct_string(v, vlen, u->token, sizeof(u->token)) ? M2M_E_HSM_URI : M2M_OK;
	if (IS("serial"))
		return pct_string(v, vlen, u->serial, sizeof(u->serial)) ? M2M_E_HSM_URI : M2M_OK;
	if (IS("manufacturer"))
		return pct_string(v, vlen, u->manufacturer, sizeof(u->manufacturer)) ?
		    M2M_E_HSM_URI : M2M_OK;
	if (IS("model"))
		return pct_string(v, vlen, u->model, sizeof(u->model)) ? M2M_E_HSM_URI : M2M_OK;
	if (IS("object")) {
		u->key.has_label = 1;
		return pct_string(v, vlen, u->key.label, sizeof(u->key.label)) ?
		    M2M_E_HSM_URI : M2M_OK;
	}
	if (IS("id")) {
		idlen = pct_decode(v, vlen, u->key.id, sizeof(u->key.id));
		u->key.id_len = idlen < 0 ? 0 : (size_t)idlen;
		u->key.has_id = 1;
		return idlen <= 0 ? M2M_E_HSM_URI : M2M_OK;
	}
	/* These narrow the choice in ways that cannot change ours. */
	if (IS("type") || IS("library-description") || IS("library-manufacturer") ||
	    IS("library-version") || IS("slot-description") || IS("slot-id") ||
	    IS("slot-manufacturer"))
		return M2M_OK;
#undef IS
	return M2M_E_HSM_URI;
}

static enum m2m_err
query_attr(const char *a, size_t alen, const char *v, size_t vlen, struct hsm_uri *u)
{
	if (alen == 10 && memcmp(a, "pin-source", 10) == 0) {
		const char *p = v;
		size_t n = vlen;

		if (n > 5 && memcmp(p, "file:", 5) == 0) {
			p += 5;
			n -= 5;
		}
		return pct_string(p, n, u->pin_source, sizeof(u->pin_source)) ?
		    M2M_E_HSM_URI : M2M_OK;
	}
	if (alen == 11 && memcmp(a, "module-path", 11) == 0)
		return pct_string(v, vlen, u->module_path, sizeof(u->module_path)) ?
		    M2M_E_HSM_URI : M2M_OK;
	return M2M_E_HSM_URI;
}

/* Walks "a=v" pairs separated by sep in [s, end). */
static enum m2m_err
walk(const char *s, const char *end, int sep, int query, struct hsm_uri *u,
    char *err, size_t errlen)
{
	while (s < end) {
		const char *next = memchr(s, sep, (size_t)(end - s));
		const char *eq;
		enum m2m_err e;

		if (next == NULL)
			next = end;
		eq = memchr(s, '=', (size_t)(next - s));
		if (eq == NULL)
			e = M2M_E_HSM_URI;
		else if (query && eq - s == 9 && memcmp(s, "pin-value", 9) == 0)
			e = M2M_E_HSM_URI;	/* never a PIN on a command line */
		else
			e = (query ? query_attr : path_attr)(s, (size_t)(eq - s), eq + 1,
			    (size_t)(next - eq - 1), u);
		if (e != M2M_OK) {
			hsm_detail(err, errlen, "PKCS#11 URI: bad or unsupported attribute '%.*s'%s",
			    (int)(next - s), s, query && eq != NULL && eq - s == 9 ?
			    " (PINs come from --pin-file, M2M_PIN_FILE or M2M_PIN)" : "");
			return e;
		}
		s = next + 1;
	}
	return M2M_OK;
}

enum m2m_err
hsm_uri_parse(const char *s, struct hsm_uri *u, char *err, size_t errlen)
{
	const char *q, *end;
	enum m2m_err e;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(s, "pkcs11:", 7) != 0) {
		hsm_detail(err, errlen, "not a PKCS#11 URI: %s", s);
		return M2M_E_HSM_URI;
	}
	s += 7;
	end = s + strlen(s);
	q = strchr(s, '?');
	if ((e = walk(s, q ? q : end, ';', 0, u, err, errlen)) != M2M_OK)
		return e;
	return q ? walk(q + 1, end, '&', 1, u, err, errlen) : M2M_OK;
}
