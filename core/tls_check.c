/* tls_check.c: is a certificate and key pair one that a TLS server can
 * use? Sofia-SIP only logs a bad pair and listens on without TLS, so the
 * options check it first and refuse to start (exit 2) with the reason. */
#include "core/core.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* OpenSSL's reason for the last failure, for a one-line message. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	return r ? r : "unknown error";
}

int tls_check_pair(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc = -1;
	if (!ctx) {
		snprintf(err, errlen, "TLS: %s", ssl_reason());
	} else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen,
			 "--tls-cert '%s': not a PEM certificate (%s)", cert,
			 ssl_reason());
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) !=
		   1) {
		/* OpenSSL checks the pair as it loads the key */
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			snprintf(
			    err, errlen,
			    "--tls-key '%s' does not match --tls-cert '%s'",
			    key, cert);
		else
			snprintf(
			    err, errlen,
			    "--tls-key '%s': not a PEM private key without "
			    "a passphrase (%s)",
			    key, ssl_reason());
	} else {
		rc = 0;
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return rc;
}
