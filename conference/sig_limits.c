/* sig_limits.c: what a flood or an exhaustion is refused with.
 *
 * New INVITEs and SUBSCRIBEs pay a token from their source address's
 * bucket (--sip-rate); calls (dial-outs included), rooms and
 * subscriptions are capped (--max-calls, --max-rooms,
 * --max-subscriptions). Every refusal here is 503 with a Retry-After
 * (RFC 3261 21.5.4: the condition is temporary), so that a well-behaved
 * client backs off instead of retrying at once, and is logged at info
 * with its source. Requests inside a dialog are never limited: they keep
 * what was admitted working. Signalling thread only. */
#include "conference/ratelimit.h"
#include "conference/sig.h"

#include <errno.h>
#include <stdio.h>

#define RATE_SLOTS	4096 /* source addresses remembered at once */
#define RETRY_FULL_S	10   /* Retry-After when a cap is reached */
#define RETRY_DEFAULT_S 5    /* ... and for other 503s (shutting down, ports) */

int sig_limits_start(struct conference *c)
{
	if (!c->opts->sip_rate)
		return 0;
	return ratelimit_new(&c->sig->rate, c->opts->sip_rate, RATE_SLOTS);
}

void sig_limits_free(struct conference *c)
{
	if (c->sig) {
		ratelimit_free(c->sig->rate);
		c->sig->rate = NULL;
	}
}

unsigned sig_limits_new_request(struct conference *c, enum sig_limit kind,
				const char **why)
{
	const struct options *o = c->opts;
	if (kind == SIG_LIMIT_CALL && o->max_calls &&
	    sig_call_count(c) >= o->max_calls) {
		*why = "too many calls (--max-calls)";
		return RETRY_FULL_S;
	}
	if (kind == SIG_LIMIT_SUB && o->max_subscriptions &&
	    sig_sub_count(c) >= o->max_subscriptions) {
		*why = "too many subscriptions (--max-subscriptions)";
		return RETRY_FULL_S;
	}
	if (!c->sig->rate)
		return 0;
	char src[RATELIMIT_KEY_MAX];
	bool v6;
	if (!sig_request_source(c->sig->nua, src, sizeof(src), &v6))
		snprintf(src, sizeof(src), "-");
	unsigned retry = ratelimit_take(c->sig->rate, src, mono_now_ns());
	if (retry) {
		log_info("sip", "source %s over --sip-rate %u/s", src,
			 o->sip_rate);
		*why = "too many requests from this address (--sip-rate)";
	}
	return retry;
}

const char *sig_retry_after(unsigned retry_s, char buf[16])
{
	snprintf(buf, 16, "%u", retry_s ? retry_s : RETRY_DEFAULT_S);
	return buf;
}
