/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the PIN: from a file (first line) or from M2M_PIN, never from
 * argv. The caller wipes the buffer as soon as C_Login returned. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

static enum m2m_err
pin_from_file(const char *path, char *pin, size_t pinlen, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		hsm_detail(err, errlen, "PIN file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return M2M_E_HSM_PIN_SOURCE;
	}
	/* A PIN anyone on the box can read is no PIN: refuse, like ssh does. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IRWXO) != 0) {
		close(fd);
		hsm_detail(err, errlen, "PIN file %s must be a regular file not readable by "
		    "others (chmod 0600 or 0640)", path);
		return M2M_E_HSM_PIN_SOURCE;
	}
	n = read(fd, pin, pinlen - 1);
	close(fd);
	if (n <= 0) {
		hsm_detail(err, errlen, "PIN file %s is empty or unreadable", path);
		return M2M_E_HSM_PIN_SOURCE;
	}
	pin[n] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	return M2M_OK;
}

enum m2m_err
hsm_pin_read(const char *pin_file, char *pin, size_t pinlen, char *err, size_t errlen)
{
	const char *env;
	enum m2m_err e;

	if (pin_file != NULL)
		e = pin_from_file(pin_file, pin, pinlen, err, errlen);
	else if ((env = getenv("M2M_PIN")) != NULL && strlen(env) < pinlen) {
		memcpy(pin, env, strlen(env) + 1);
		e = M2M_OK;
	} else {
		hsm_detail(err, errlen, "no PIN: give --pin-file, M2M_PIN_FILE or M2M_PIN");
		return M2M_E_HSM_NO_PIN;
	}
	if (e == M2M_OK && pin[0] == '\0') {
		hsm_detail(err, errlen, "the PIN is empty");
		e = M2M_E_HSM_PIN_SOURCE;
	}
	if (e != M2M_OK)
		OPENSSL_cleanse(pin, pinlen);
	return e;
}
