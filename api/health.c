/* health.c: GET /healthz, for load balancers and systemd watchdogs. No
 * token needed.
 *
 * 200 {"status":"ok"}, or 503 {"status":"failing","reason":"..."} when the
 * signalling thread has stopped or does not answer within 2 s, when the
 * store reports it cannot write, when a mixer has not ticked for a second
 * (a hung thread: conference.h's mixers_stalled), or when the mixers
 * missed more than API_HEALTH_MISSED_TICKS ticks since the previous
 * /healthz (the first call only takes the baseline): ticks so late that
 * they were not caught up, gaps in what callers hear. Kept simple on
 * purpose: the rule reads "missed since the last probe", so probe at a
 * steady interval. */
#include "api/api_priv.h"

#include <stdio.h>

static enum MHD_Result failing(struct api_call *c, const char *reason)
{
	json_t *body =
	    json_pack("{s:s,s:s}", "status", "failing", "reason", reason);
	return reply_json(c, MHD_HTTP_SERVICE_UNAVAILABLE, body, NULL, NULL);
}

enum MHD_Result health_get(struct api_call *c)
{
	struct api *a = c->a;
	if (!conference_alive(a->conf))
		return failing(c, "the signalling thread has stopped");
	struct conf_req req = {.op = CONF_METRICS};
	struct conf_reply rep = {0};
	int err = conference_request(a->conf, &req, &rep, 2000);
	struct conf_metrics m = rep.metrics;
	conference_reply_clear(&rep);
	if (err)
		return failing(c, "the signalling thread does not answer");
	if (!m.store_writable)
		return failing(c, "the room store is not writable");
	if (m.mixers_stalled) {
		char why[96];
		snprintf(why, sizeof(why),
			 "%u mixers have not ticked for %u ms",
			 m.mixers_stalled, CONF_MIXER_STALL_MS);
		return failing(c, why);
	}
	uint64_t before =
	    atomic_exchange(&a->health_missed_ticks, m.missed_ticks);
	if (before != UINT64_MAX && m.missed_ticks > before &&
	    m.missed_ticks - before > API_HEALTH_MISSED_TICKS) {
		char why[96];
		snprintf(why, sizeof(why),
			 "mixers missed %llu ticks since the last check",
			 (unsigned long long)(m.missed_ticks - before));
		return failing(c, why);
	}
	return reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"),
			  NULL, NULL);
}
