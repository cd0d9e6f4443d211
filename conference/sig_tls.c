/* sig_tls.c: the certificate directory Sofia-SIP's TLS transport reads.
 *
 * Sofia-SIP 1.12 takes its TLS identity from a directory holding
 * agent.pem, the private key and the certificate in one file. tutti's
 * options name the two files apart, as other servers' do, so agent.pem is
 * written into a private directory (0700, the file 0600) just before the
 * stack starts and removed as soon as the transport has loaded it: the
 * key lies in a second place only for that moment. Signalling thread. */
#include "conference/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX (1u << 20) /* a key or a certificate chain */

/* Appends the file at path to fd; -errno, -EFBIG past PEM_MAX, -EINVAL
 * when it holds no PEM block. */
static int append_pem(int fd, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char *buf = malloc(PEM_MAX + 1);
	size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
	int err = !buf ? -ENOMEM : ferror(f) ? -EIO : n > PEM_MAX ? -EFBIG : 0;
	fclose(f);
	if (!err) {
		buf[n] = '\0';
		if (!strstr(buf, "-----BEGIN "))
			err = -EINVAL;
	}
	if (!err &&
	    (write(fd, buf, n) != (ssize_t)n || write(fd, "\n", 1) != 1))
		err = -EIO;
	free(buf);
	return err;
}

static int fail(const char *what, const char *path, int err)
{
	log_error("sip", "--%s '%s': %s", what, path,
		  err == -EINVAL ? "not a PEM file" : strerror(-err));
	return err;
}

int sig_tls_dir_make(const struct options *o, char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, cap, "%s/tutti-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		int err = -errno;
		log_error("sip", "cannot make a directory for TLS: %s",
			  strerror(errno));
		dir[0] = '\0';
		return err;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/agent.pem", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = -errno;
		sig_tls_dir_remove(dir);
		return fail("tls-key", path, err);
	}
	int err = append_pem(fd, o->tls_key);
	if (err)
		fail("tls-key", o->tls_key, err);
	else if ((err = append_pem(fd, o->tls_cert)))
		fail("tls-cert", o->tls_cert, err);
	if (close(fd) && !err)
		err = -EIO;
	if (err)
		sig_tls_dir_remove(dir);
	return err;
}

void sig_tls_dir_remove(char *dir)
{
	if (!dir[0])
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/agent.pem", dir);
	unlink(path);
	rmdir(dir);
	dir[0] = '\0';
}
