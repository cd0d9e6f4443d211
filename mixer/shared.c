/* shared.c: shared encodes: everyone who hears the shared mix in the same
 * format gets the same encoded packet.
 *
 * Every listener who is not a speaker hears the same shared mix (unless a
 * listen gain, deafness or a prompt makes theirs their own: tick.c
 * decides), with the room's join and leave tones over it while they play
 * (m->shared_out, play.c). Those who also send with the same codec and
 * packet time would each encode the same audio into the same bytes;
 * instead, the room keeps one encoder (rtp/txenc.c) per codec and packet
 * time, encodes the shared mix once per tick for the first such listener,
 * and every one of them sends that packet under its own RTP header (SSRC,
 * sequence, timestamp, marker; the CSRC list is the same for all). What
 * the encoder makes of silence (DTX, CN or packets) is part of the format:
 * listeners who asked for DTX share one encoder, the others another. A room
 * of N with K speakers thus makes K + 1 encodes per codec group each tick
 * instead of N, and the room-rate to codec-rate conversion is shared too.
 *
 * Encoders are made when a stream joins or changes format (cmds.c), never
 * during a tick, at most MIXER_MAX_GROUPS per room, in a fixed array (a
 * participant keeps a pointer to its format's); a listener whose
 * format finds no encoder (none could be made) simply encodes its own. An
 * encoder not used on the tick before holds stale audio towards a longer
 * packet, which is dropped. The encoders live as long as the mixer. A
 * listener who moves between its own encoder and the shared one sends the
 * far end packets of another encoder's history: Opus makes a small
 * transition there, G.711 none.
 *
 * Opus FEC (rtp/fecloss.c): a shared encoder codes in-band FEC for the
 * worst loss its listeners report, members who speak included (they hear
 * it again when they stop). One listener on a bad path thus costs the
 * room one encode's worth of FEC, while coding for less would leave that
 * listener unprotected. The worst is found again only when a listener's
 * setting changed (a report crossed a step, which fecloss.c's hysteresis
 * keeps rare) or the members did, once in that tick, and libopus is told
 * only when the result differs (txenc_set_fec_loss).
 *
 * Mixer thread (mixer_free() frees them after the thread has ended). */
#include "mixer/mixer_priv.h"

static struct encgroup *find(struct mixer *m, const struct stream *s)
{
	enum codec_id codec;
	uint32_t ptime_ms;

	stream_tx_format(s, &codec, &ptime_ms);
	for (size_t i = 0; i < m->n_groups; i++)
		if (m->groups[i].codec == codec &&
		    m->groups[i].ptime_ms == ptime_ms &&
		    txenc_silence(m->groups[i].enc) == stream_tx_silence(s))
			return &m->groups[i];
	return NULL;
}

void shared_prepare(struct mixer *m, struct part *pt)
{
	pt->fec_loss_pct = stream_fec_loss(pt->stream);
	m->fec_dirty = true;
	pt->group = find(m, pt->stream);
	if (pt->group || m->n_groups == MIXER_MAX_GROUPS)
		return;
	struct encgroup *g = &m->groups[m->n_groups];
	*g = (struct encgroup){0};
	stream_tx_format(pt->stream, &g->codec, &g->ptime_ms);
	if (txenc_new(&g->enc, g->codec, g->ptime_ms, m->p.rate_hz) < 0)
		return; /* the listener encodes its own */
	if (txenc_set_silence(g->enc, stream_tx_silence(pt->stream)) < 0) {
		txenc_free(g->enc);
		return;
	}
	m->n_groups++;
	pt->group = g;
}

void shared_free(struct mixer *m)
{
	for (size_t i = 0; i < m->n_groups; i++)
		txenc_free(m->groups[i].enc);
	m->n_groups = 0;
}

/* This tick's packets of g, encoded on first use. */
static const struct txenc_out *encoded(struct mixer *m, struct encgroup *g)
{
	if (g->tick == m->tick_no)
		return &g->out;
	if (g->tick + 1 != m->tick_no)
		txenc_drop(g->enc);
	g->tick = m->tick_no;
	/* a failed packet is lost */
	txenc_push(g->enc, m->shared_out, &g->out);
	atomic_fetch_add_explicit(&m->encodes, g->out.encoded,
				  memory_order_relaxed);
	return &g->out;
}

void shared_encode(struct mixer *m, struct part *pt)
{
	if (pt->group)
		encoded(m, pt->group);
}

bool shared_send(struct mixer *m, struct part *pt, struct sendq *q,
		 const uint32_t *csrc, unsigned n_csrc, uint64_t now_ns)
{
	if (!pt->group || !pt->group->enc)
		return false; /* none, or given up at a change of rate */
	stream_push_encoded(pt->stream, q, encoded(m, pt->group), csrc, n_csrc,
			    now_ns);
	return true;
}

void shared_fec_heard(struct mixer *m, struct part *pt)
{
	unsigned perc = stream_fec_loss(pt->stream);
	if (perc != pt->fec_loss_pct) {
		pt->fec_loss_pct = perc;
		m->fec_dirty = true;
	}
}

void shared_fec_apply(struct mixer *m)
{
	unsigned worst[MIXER_MAX_GROUPS] = {0};
	bool used[MIXER_MAX_GROUPS] = {0};

	if (!m->fec_dirty)
		return;
	m->fec_dirty = false;
	for (size_t i = 0; i < m->n_parts; i++) {
		const struct part *pt = m->parts[i];
		if (!pt->group)
			continue;
		size_t g = (size_t)(pt->group - m->groups);
		used[g] = true;
		if (pt->fec_loss_pct > worst[g])
			worst[g] = pt->fec_loss_pct;
	}
	for (size_t g = 0; g < m->n_groups; g++)
		if (used[g] && m->groups[g].enc)
			/* a valid setting on an Opus encoder: cannot fail */
			(void)txenc_set_fec_loss(m->groups[g].enc, worst[g]);
}

unsigned shared_fec_loss_of(const struct part *pt)
{
	if (!pt->lim_own && pt->group && pt->group->enc)
		return txenc_fec_loss(pt->group->enc);
	return stream_tx_fec_loss(pt->stream);
}
