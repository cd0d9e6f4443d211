/* test_jbuf.c: the jitter buffer (rtp/jbuf.c): order, loss, lateness,
 * duplicates, bounds, resynchronisation and timestamp wrap-around. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define RATE   8000
#define FRAME  160 /* 20 ms at 8 kHz */
#define MAX_MS 200
#define SSRC   0xcafe

struct src {
	uint16_t seq0;
	uint32_t ts0, ssrc;
	uint8_t pay[4];
	struct rtppkt p;
};

/* Packet k of a stream: seq0 + k, ts0 + k * FRAME, payload "k". */
static const struct rtppkt *pkt(struct src *s, uint32_t k)
{
	memcpy(s->pay, &k, sizeof(k));
	s->p = (struct rtppkt){
	    .seq = (uint16_t)(s->seq0 + k),
	    .ts = s->ts0 + k * FRAME,
	    .ssrc = s->ssrc,
	    .payload = s->pay,
	    .payload_bytes = sizeof(s->pay),
	};
	return &s->p;
}

/* Pulls one frame: returns k for JBUF_FRAME, -1 MISSING, -2 EMPTY. */
static long pull(struct jbuf *jb)
{
	uint8_t buf[RTPPKT_MAX_BYTES];
	size_t len = 0;
	uint32_t k;

	switch (jbuf_get(jb, buf, sizeof(buf), &len)) {
	case JBUF_FRAME:
		CU_ASSERT_EQUAL(len, 4);
		memcpy(&k, buf, sizeof(k));
		return k;
	case JBUF_MISSING:
		return -1;
	default:
		return -2;
	}
}

/* jbuf_peek_next: k of the packet it shows, -1 for none. */
static long peek(struct jbuf *jb)
{
	uint8_t buf[JBUF_PEEK_BYTES];
	size_t len = 0;
	uint32_t k;

	if (jbuf_peek_next(jb, buf, sizeof(buf), &len) < 0)
		return -1;
	CU_ASSERT_EQUAL(len, 4);
	memcpy(&k, buf, sizeof(k));
	return k;
}

static struct jbuf *mk(void)
{
	struct jbuf *jb = NULL;

	CU_ASSERT_EQUAL(jbuf_new(&jb, RATE, FRAME, MAX_MS), 0);
	return jb;
}

static void test_empty_at_start(void)
{
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(jb);
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(pull(jb), -2);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.put + st.late + st.dropped + st.missing + st.resets,
			0);
	jbuf_free(jb);
	jbuf_free(NULL);
}

static void test_in_order(void)
{
	struct src s = {.seq0 = 100, .ts0 = 1000, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	for (uint32_t k = 0; k < 5; k++)
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	for (long k = 0; k < 5; k++)
		CU_ASSERT_EQUAL(pull(jb), k);
	/* The sender stops: concealment for 100 ms, then silence. */
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), -2);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.put, 5);
	CU_ASSERT_EQUAL(st.missing, 5);
	CU_ASSERT_EQUAL(st.late + st.dropped + st.resets, 0);
	jbuf_free(jb);
}

static void test_reorder(void)
{
	static const uint32_t order[] = {1, 0, 2, 4, 3, 6, 5, 7};
	struct src s = {.seq0 = 7, .ts0 = 99, .ssrc = SSRC};
	struct jbuf *jb = mk();

	for (size_t i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, order[i])), 0);
	for (long k = 0; k < 8; k++)
		CU_ASSERT_EQUAL(pull(jb), k);
	jbuf_free(jb);
}

static void test_loss(void)
{
	struct src s = {.seq0 = 1, .ts0 = 0, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	for (uint32_t k = 0; k < 6; k++)
		if (k != 2 && k != 4)
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(pull(jb), 1);
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), 3);
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), 5);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.missing, 2);
	jbuf_free(jb);
}

/* Opus FEC: after a frame reported lost, the packet after it is shown
 * (when kept and already here) and still played at its turn. */
static void test_peek_next(void)
{
	struct src s = {.seq0 = 1, .ts0 = 5000, .ssrc = SSRC};
	struct jbuf *jb = mk();
	uint8_t buf[JBUF_PEEK_BYTES];
	size_t len = 0;

	CU_ASSERT_EQUAL(jbuf_keep_next(jb), 0);
	CU_ASSERT_EQUAL(jbuf_keep_next(jb), 0); /* twice is once */
	for (uint32_t i = 0; i < 6; i++)
		if (i != 2 && i != 4 && i != 5)
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, i)), 0);
	CU_ASSERT_EQUAL(peek(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(peek(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), 1);
	CU_ASSERT_EQUAL(pull(jb), -1); /* 2 lost: 3 is here */
	CU_ASSERT_EQUAL(peek(jb), 3);
	CU_ASSERT_EQUAL(jbuf_peek_next(jb, buf, 3, &len), -ENOENT);
	CU_ASSERT_EQUAL(pull(jb), 3);  /* and still played */
	CU_ASSERT_EQUAL(pull(jb), -1); /* 4 lost, 5 not here yet */
	CU_ASSERT_EQUAL(peek(jb), -1);
	jbuf_free(jb);

	/* not kept: nothing to show */
	jb = mk();
	for (uint32_t i = 0; i < 3; i++)
		if (i != 1)
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, i)), 0);
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(peek(jb), -1);
	CU_ASSERT_EQUAL(jbuf_keep_next(NULL), -EINVAL);
	jbuf_free(jb);
}

/* A sender with FEC and no jitter: packet k comes just before its turn.
 * At the first loss the buffer holds a frame (a MISSING that is no loss),
 * and from then on the packet after a lost one is here in time. */
static void test_hold_for_fec(void)
{
	struct src s = {.seq0 = 1, .ts0 = 700, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	CU_ASSERT_EQUAL(jbuf_keep_next(jb), 0);
	jbuf_hold_for_fec(jb);
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, i)), 0);
		CU_ASSERT_EQUAL(pull(jb), (long)i);
	}
	/* 3 is lost, 4 not here yet: hold, nothing played out */
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(peek(jb), -1);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 4)), 0);
	/* now 3's turn, with 4 here */
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(peek(jb), 4);
	/* a frame behind from then on: 14 lost, 15 here in time */
	for (uint32_t i = 5; i < 40; i++) {
		if (i != 14)
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, i)), 0);
		CU_ASSERT_EQUAL(pull(jb), i == 15 ? -1 : (long)i - 1);
		if (i == 15)
			CU_ASSERT_EQUAL(peek(jb), 15);
	}
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.late, 0);
	jbuf_free(jb);
}

static void test_late_dropped(void)
{
	struct src s = {.seq0 = 500, .ts0 = 12345, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	jbuf_put(jb, pkt(&s, 0));
	jbuf_put(jb, pkt(&s, 1));
	jbuf_put(jb, pkt(&s, 3));
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(pull(jb), 1);
	CU_ASSERT_EQUAL(pull(jb), -1);
	/* Packet 2 arrives after its time was concealed. */
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 2)), -EBADMSG);
	CU_ASSERT_EQUAL(pull(jb), 3);
	/* A copy of one already played is a duplicate. */
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 0)), -EALREADY);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.late, 1);
	CU_ASSERT_EQUAL(st.dropped, 1);
	CU_ASSERT_EQUAL(st.put, 3);
	CU_ASSERT_EQUAL(pull(jb), -1);
	jbuf_free(jb);
}

/* jbuf_late_follows: a late packet follows what was played when only
 * losses lie between (a decoder may then take it in), each late one in
 * its turn; not one after a frame was played past it, nor one that skips
 * a lost frame, another source, or after a reset. */
static void test_late_follows(void)
{
	struct src s = {.seq0 = 500, .ts0 = 12345, .ssrc = SSRC};
	struct src other = {.seq0 = 9, .ts0 = 777, .ssrc = SSRC + 1};
	struct jbuf *jb = mk();

	for (uint32_t k = 0; k < 8; k++)
		if (k != 2 && k != 3 && k != 6)
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 0))); /* nothing played */
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(pull(jb), 1);
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), -1);
	/* 3 skips the lost 2; then 2 and 3 in turn; 2 only once */
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 3)), -EBADMSG);
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 3)));
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&other, 2)));
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 2)), -EBADMSG);
	CU_ASSERT(jbuf_late_follows(jb, pkt(&s, 2)));
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 2)));
	CU_ASSERT(jbuf_late_follows(jb, pkt(&s, 3)));
	/* The buffer deepens its delay after late packets: it may insert a
	 * frame (MISSING) before 4, 5 and the lost 6 go by, then 7 */
	long got = -3;
	for (int i = 0; i < 8 && got != 7; i++)
		got = pull(jb);
	CU_ASSERT_EQUAL(got, 7);
	/* 6 comes after 7 was played: too late even for a decoder */
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 6)), -EBADMSG);
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 6)));
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 8))); /* not late at all */
	CU_ASSERT(jbuf_put(jb, pkt(&s, 8)) == 0);
	CU_ASSERT_EQUAL(pull(jb), 8);
	jbuf_reset(jb);
	CU_ASSERT(!jbuf_late_follows(jb, pkt(&s, 9)));
	CU_ASSERT(!jbuf_late_follows(NULL, pkt(&s, 9)));
	jbuf_free(jb);
}

static void test_duplicate_dropped(void)
{
	struct src s = {.seq0 = 65535, .ts0 = 5, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 0)), 0);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 0)), -EALREADY);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 1)), 0); /* seq 0 */
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 1)), -EALREADY);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 0)), -EALREADY);
	CU_ASSERT_EQUAL(pull(jb), 0);
	CU_ASSERT_EQUAL(pull(jb), 1);
	CU_ASSERT_EQUAL(pull(jb), -1);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.put, 2);
	CU_ASSERT_EQUAL(st.dropped, 3);
	CU_ASSERT_EQUAL(st.late, 0);
	jbuf_free(jb);
}

static void test_delay_capped(void)
{
	struct src s = {.seq0 = 0, .ts0 = 0, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t k;
	long got = 0;

	/* Nobody pulls: only max_ms worth is kept, the rest is refused
	 * until a run of refusals moves the window to the newest. */
	for (k = 0; k < MAX_MS / 20; k++)
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k++)), -ENOSPC);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.dropped, 1);
	for (; k < 1000; k++)
		jbuf_put(jb, pkt(&s, k));
	jbuf_stats(jb, &st);
	CU_ASSERT_TRUE(st.resets > 0);
	CU_ASSERT_EQUAL(st.put + st.dropped, 1000);
	/* What is left is at most max_ms, in order, and recent: the window
	 * moved with the sender. */
	long k0 = pull(jb), last = k0;
	CU_ASSERT_TRUE(k0 >= 1000 - 2 * MAX_MS / 20 - 8);
	for (got = 1; got < 100; got++) {
		long n = pull(jb);
		if (n < 0)
			break;
		CU_ASSERT_EQUAL(n, last + 1);
		last = n;
	}
	CU_ASSERT_TRUE(got <= MAX_MS / 20);
	CU_ASSERT_TRUE(last <= 999);
	jbuf_free(jb);
}

static void test_runaway_resets(void)
{
	struct src s = {.seq0 = 10, .ts0 = 77, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	for (uint32_t k = 0; k < 3; k++) {
		jbuf_put(jb, pkt(&s, k));
		CU_ASSERT_EQUAL(pull(jb), k);
	}
	/* The sender's clock jumps 10 s ahead, same SSRC and sequence. */
	s.ts0 += 10 * RATE;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 3)), 0);
	CU_ASSERT_EQUAL(pull(jb), 3);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.resets, 1);
	/* And 5 s back. */
	s.ts0 -= 5 * RATE;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 4)), 0);
	CU_ASSERT_EQUAL(pull(jb), 4);
	/* A new SSRC. */
	s.ssrc++;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 5)), 0);
	CU_ASSERT_EQUAL(pull(jb), 5);
	/* A sequence jump beyond RFC 3550's MAX_DROPOUT. */
	s.seq0 += 20000;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 6)), 0);
	CU_ASSERT_EQUAL(pull(jb), 6);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.resets, 4);
	CU_ASSERT_EQUAL(st.late + st.missing, 0);

	/* A jump within a few seconds: refused while it may be a burst,
	 * followed once it persists. */
	s.ts0 += RATE;
	uint32_t k = 7;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k++)), -ENOSPC);
	int ok = -1;
	for (int i = 0; i < 20 && ok != 0; i++)
		ok = jbuf_put(jb, pkt(&s, k++));
	CU_ASSERT_EQUAL(ok, 0);
	CU_ASSERT_EQUAL(pull(jb), (long)k - 1);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.resets, 5);
	jbuf_free(jb);
}

static void test_timestamp_wrap(void)
{
	struct src s = {
	    .seq0 = 65530, .ts0 = 0xffffffffu - 3 * FRAME + 1, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	/* Put one ahead, pull one, across both wraps, with a swap. */
	jbuf_put(jb, pkt(&s, 0));
	for (uint32_t k = 1; k < 20; k++) {
		if (k == 4) {
			jbuf_put(jb, pkt(&s, 5));
			jbuf_put(jb, pkt(&s, 4));
		} else if (k != 5) {
			jbuf_put(jb, pkt(&s, k));
		}
		CU_ASSERT_EQUAL(pull(jb), k - 1);
	}
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.put, 20);
	CU_ASSERT_EQUAL(st.late + st.dropped + st.missing + st.resets, 0);
	jbuf_free(jb);
}

/* Packets 0 to n-1, each taken as it comes; returns n. */
static uint32_t steady(struct jbuf *jb, struct src *s, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		jbuf_put(jb, pkt(s, k));
		CU_ASSERT_EQUAL(pull(jb), k);
	}
	return n;
}

static void test_silence_then_resume(void)
{
	struct src s = {.seq0 = 1, .ts0 = 1, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t k = 0;

	k = steady(jb, &s, 5);
	/* One second of nothing; the sender's timestamps run on. */
	for (int i = 0; i < 50; i++) {
		long r = pull(jb);
		CU_ASSERT_EQUAL(r, i < 5 ? -1 : -2);
	}
	k += 50;
	for (uint32_t i = 0; i < 5; i++, k++) {
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
		CU_ASSERT_EQUAL(pull(jb), k);
	}
	/* and again, with a loss just after: missing, not empty */
	for (int i = 0; i < 30; i++)
		CU_ASSERT_EQUAL(pull(jb), i < 5 ? -1 : -2);
	k += 30;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT_EQUAL(pull(jb), k);
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k + 2)), 0);
	CU_ASSERT_EQUAL(pull(jb), -1);
	CU_ASSERT_EQUAL(pull(jb), k + 2);
	k += 3;
	/* A sender whose timestamps stood still during the silence. */
	for (int i = 0; i < 50; i++)
		pull(jb);
	s.ts0 -= 50 * FRAME;
	s.seq0 -= 50;
	k += 50;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT_EQUAL(pull(jb), k);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.late, 0);
	jbuf_free(jb);
}

/* A sender in DTX: a packet, then nothing for 19 frames, then the next.
 * Paused after the first, the buffer says EMPTY without counting missing
 * frames, and the next packet plays at the next get, whether its
 * timestamp is as far on as the frames that went by, one frame short of
 * that (it must not count as late) or one beyond (it waits one frame). */
static void test_pause(void)
{
	struct src s = {.ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t k = 0;

	/* s.seq0 and s.ts0 move so that packet k is the next in sequence
	 * (contiguous, as DTX senders number them) at the time we choose */
	k = steady(jb, &s, 5);
	jbuf_stats(jb, &st);
	uint64_t missing = st.missing, late = st.late, resets = st.resets;
	static const int skew[] = {0, -1, 1, 0};
	for (int run = 0; run < 4; run++) {
		jbuf_pause(jb); /* the packet just taken was DTX */
		for (int i = 0; i < 19; i++)
			CU_ASSERT_EQUAL(pull(jb), -2);
		/* 20 frames after the last (plus the skew), next in sequence */
		s.ts0 += (uint32_t)(19 + skew[run]) * FRAME;
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
		if (skew[run] > 0)
			CU_ASSERT_EQUAL(pull(jb), -1);
		CU_ASSERT_EQUAL(pull(jb), k);
		/* and the stream goes on from there as usual */
		for (int i = 1; i <= 3; i++) {
			CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k + i)), 0);
			CU_ASSERT_EQUAL(pull(jb), k + i);
		}
		k += 4;
	}
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.late, late);
	CU_ASSERT_EQUAL(st.resets, resets);
	CU_ASSERT(st.missing <= missing + 1); /* the one frame of skew +1 */
	/* nothing pauses while a packet is waiting */
	jbuf_put(jb, pkt(&s, k));
	jbuf_pause(jb);
	CU_ASSERT_EQUAL(pull(jb), k);
	jbuf_free(jb);
}

/* While paused, the run's next DTX packets are absorbed: never played,
 * seen (a duplicate is refused), and the clock stays stopped, so the
 * packet that ends the run is played next with no loss, late or reset.
 * A run lasts as long as the caller is quiet: 12 s here, four times the
 * distance at which a timestamp jump means a restart. Not paused, out of
 * order, or a jump that far beyond the time gone by: -EAGAIN, for
 * jbuf_put. */
static void test_absorb(void)
{
	struct src s = {.ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;

	uint32_t k = steady(jb, &s, 5);
	CU_ASSERT_EQUAL(jbuf_absorb(jb, pkt(&s, k)), -EAGAIN); /* playing */
	jbuf_stats(jb, &st);
	uint64_t missing = st.missing, late = st.late, resets = st.resets;
	jbuf_pause(jb); /* the packet just taken was DTX */
	for (int run = 0; run < 30; run++) {
		for (int i = 0; i < 19; i++)
			CU_ASSERT_EQUAL(pull(jb), -2);
		/* the next DTX packet, 20 frames after the last, in sequence */
		s.ts0 += 19 * FRAME;
		CU_ASSERT_EQUAL(jbuf_absorb(jb, pkt(&s, k)), 0);
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), -EALREADY);
		CU_ASSERT_EQUAL(jbuf_absorb(jb, pkt(&s, k)), -EAGAIN);
		CU_ASSERT_EQUAL(pull(jb), -2);
		k++;
	}
	/* one older than the playout point, another source, one 4 s ahead
	 * of the time gone by: not absorbed */
	CU_ASSERT_EQUAL(jbuf_absorb(jb, pkt(&s, k - 4)), -EAGAIN);
	struct rtppkt other = *pkt(&s, k);
	other.ssrc ^= 1;
	CU_ASSERT_EQUAL(jbuf_absorb(jb, &other), -EAGAIN);
	other = *pkt(&s, k);
	other.ts += 4 * RATE;
	CU_ASSERT_EQUAL(jbuf_absorb(jb, &other), -EAGAIN);
	/* speech again: played at its time, and the stream goes on */
	for (int i = 0; i < 19; i++)
		CU_ASSERT_EQUAL(pull(jb), -2);
	s.ts0 += 19 * FRAME;
	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
	CU_ASSERT_EQUAL(pull(jb), k);
	for (int i = 1; i <= 3; i++) {
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k + i)), 0);
		CU_ASSERT_EQUAL(pull(jb), k + i);
	}
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.absorbed, 30);
	CU_ASSERT_EQUAL(st.missing, missing);
	CU_ASSERT_EQUAL(st.late, late);
	CU_ASSERT_EQUAL(st.resets, resets);
	CU_ASSERT_EQUAL(jbuf_absorb(NULL, pkt(&s, k)), -EAGAIN);
	jbuf_free(jb);
}

/* A steady sender over a jittery path: each packet takes 0 to 3 frames.
 * The buffer adapts: nearly every frame is played, in order. */
/* Packet k of n, sent every tick, arrives delay[k] ticks late (at most
 * maxd); each tick delivers what arrives, in sending order, and pulls one
 * frame, for extra ticks more. Returns the frames played, which must come
 * in order. */
static long deliver(struct jbuf *jb, struct src *s, const uint32_t *delay,
		    int n, int maxd, int extra)
{
	long played = 0, last = -1;

	for (int t = 0; t < n + extra; t++) {
		for (int k = t - maxd; k <= t; k++)
			if (k >= 0 && k < n && k + (int)delay[k] == t)
				jbuf_put(jb, pkt(s, (uint32_t)k));
		long r = pull(jb);
		if (r >= 0) {
			CU_ASSERT_TRUE(r > last);
			last = r;
			played++;
		}
	}
	return played;
}

/* delay[k] for n packets: 0 to maxd ticks at random (seeded) for the
 * first jittery ones, 0 after them. */
static void jittery_delays(uint32_t *delay, int n, int jittery, int maxd,
			   uint32_t seed)
{
	for (int t = 0; t < n; t++) {
		seed = seed * 1103515245u + 12345u;
		delay[t] =
		    t < jittery ? (seed >> 16) % (uint32_t)(maxd + 1) : 0;
	}
}

static void test_jitter_adapts(void)
{
	enum { TICKS = 3000, MAXD = 3 };
	struct src s = {.seq0 = 4242, .ts0 = 99999, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t delay[TICKS];

	jittery_delays(delay, TICKS, TICKS, MAXD, 1);
	long played = deliver(jb, &s, delay, TICKS, MAXD, MAXD);
	jbuf_stats(jb, &st);
	CU_ASSERT_EQUAL(st.put + st.late, TICKS);
	CU_ASSERT_TRUE(played > TICKS * 95 / 100);
	CU_ASSERT_TRUE(st.late < TICKS * 5 / 100);
	CU_ASSERT_EQUAL(st.resets, 0);
	jbuf_free(jb);
}

/* The buffer deepens for jittery arrivals and, once they are steady
 * again, shortens by jumping over frames: they are counted as skipped,
 * and every packet put is played or skipped (none lost without a
 * count). */
static void test_shrink_skips(void)
{
	enum { JITTERY = 600, TICKS = 3000, MAXD = 4 };
	struct src s = {.seq0 = 7, .ts0 = 5555, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t delay[TICKS];

	jittery_delays(delay, TICKS, JITTERY, MAXD, 7);
	long played = deliver(jb, &s, delay, TICKS, MAXD, 40);
	jbuf_stats(jb, &st);
	printf("\n  %llu put, %ld played, %llu skipped, %llu late",
	       (unsigned long long)st.put, played,
	       (unsigned long long)st.skipped, (unsigned long long)st.late);
	CU_ASSERT_TRUE(st.skipped > 0);
	CU_ASSERT_EQUAL(st.put, (uint64_t)played + st.skipped);
	CU_ASSERT_EQUAL(jbuf_take_skipped(jb), st.skipped);
	CU_ASSERT_EQUAL(jbuf_take_skipped(jb), 0);
	CU_ASSERT_EQUAL(jbuf_take_skipped(NULL), 0);
	jbuf_free(jb);
}

/* Packets that land on either side of the pull (each a tick late or not,
 * at random): the buffer goes a frame deeper once and plays them all but
 * the first few, and never swings back (no frame skipped). */
static void test_straddle(void)
{
	enum { TICKS = 3000 };
	struct src s = {.seq0 = 1, .ts0 = 1000, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t delay[TICKS];

	jittery_delays(delay, TICKS, TICKS, 1, 11);
	long played = deliver(jb, &s, delay, TICKS, 1, 5);
	jbuf_stats(jb, &st);
	CU_ASSERT(played >= TICKS - 5);
	CU_ASSERT(st.late <= 3);
	CU_ASSERT_EQUAL(st.skipped, 0);
	jbuf_free(jb);
}

/* The network's delay steps up by two frames for good: after three late
 * packets the buffer is two frames deeper, and every packet after the
 * step's few plays. */
static void test_delay_step(void)
{
	enum { TICKS = 400, STEP = 200 };
	struct src s = {.seq0 = 77, .ts0 = 4321, .ssrc = SSRC};
	struct jbuf *jb = mk();
	struct jbuf_stats st;
	uint32_t delay[TICKS];

	for (int t = 0; t < TICKS; t++)
		delay[t] = t < STEP ? 0 : 2;
	long played = deliver(jb, &s, delay, TICKS, 2, 5);
	jbuf_stats(jb, &st);
	CU_ASSERT(st.late <= 5);
	CU_ASSERT(played >= TICKS - 5);
	CU_ASSERT_EQUAL(st.skipped, 0);
	jbuf_free(jb);
}

/* A packet off the frame grid (its timestamp half a frame on) plays in
 * the frame it falls in, and the playout follows it. */
static void test_off_grid(void)
{
	struct src s = {.seq0 = 10, .ts0 = 160 * 50, .ssrc = SSRC};
	struct jbuf *jb = mk();

	CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, 0)), 0);
	CU_ASSERT_EQUAL(pull(jb), 0);
	s.ts0 += FRAME / 2;
	for (uint32_t k = 1; k < 5; k++) {
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
		CU_ASSERT_EQUAL(pull(jb), (long)k);
	}
	s.ts0 += FRAME / 4 + FRAME;
	for (uint32_t k = 5; k < 9; k++) {
		CU_ASSERT_EQUAL(jbuf_put(jb, pkt(&s, k)), 0);
		long r = pull(jb);
		CU_ASSERT(r == (long)k || (k == 5 && r == -1));
		if (r == -1)
			CU_ASSERT_EQUAL(pull(jb), (long)k);
	}
	jbuf_free(jb);
}

static void test_sizes_and_args(void)
{
	struct src s = {.ssrc = SSRC};
	struct jbuf *jb = mk();
	uint8_t big[RTPPKT_MAX_BYTES + 1] = {0}, small[2];
	struct rtppkt p = *pkt(&s, 0);
	size_t len = 0;

	p.payload = big;
	p.payload_bytes = sizeof(big);
	CU_ASSERT_EQUAL(jbuf_put(jb, &p), -EMSGSIZE);
	p.payload_bytes = RTPPKT_MAX_BYTES;
	CU_ASSERT_EQUAL(jbuf_put(jb, &p), 0);
	/* The caller's buffer is too small: the frame is lost. */
	CU_ASSERT_EQUAL(jbuf_get(jb, small, sizeof(small), &len), JBUF_MISSING);
	CU_ASSERT_EQUAL(jbuf_put(jb, NULL), -EINVAL);
	jbuf_reset(jb);
	CU_ASSERT_EQUAL(pull(jb), -2);
	jbuf_free(jb);

	CU_ASSERT_EQUAL(jbuf_new(&jb, 0, FRAME, 200), -EINVAL);
	CU_ASSERT_EQUAL(jbuf_new(&jb, RATE, 0, 200), -EINVAL);
	CU_ASSERT_EQUAL(jbuf_new(&jb, RATE, FRAME, 10), -EINVAL);
	CU_ASSERT_EQUAL(jbuf_new(&jb, RATE, FRAME, 100000), -EINVAL);
	CU_ASSERT_EQUAL(jbuf_new(&jb, 48000, 960, 1000), 0);
	jbuf_free(jb);
}

static const struct unit_test tests[] = {
    {"peek at the packet after a loss", test_peek_next},
    {"hold a frame for fec", test_hold_for_fec},
    {"empty at start", test_empty_at_start},
    {"in order", test_in_order},
    {"reorder", test_reorder},
    {"loss is missing", test_loss},
    {"late packet dropped", test_late_dropped},
    {"a late packet that follows what was played", test_late_follows},
    {"duplicate dropped", test_duplicate_dropped},
    {"delay capped", test_delay_capped},
    {"runaway resets", test_runaway_resets},
    {"timestamp wrap-around", test_timestamp_wrap},
    {"silence then resume", test_silence_then_resume},
    {"absorb while paused", test_absorb},
    {"paused in DTX", test_pause},
    {"jitter adapts", test_jitter_adapts},
    {"a shorter delay skips frames, counted", test_shrink_skips},
    {"packets either side of the pull", test_straddle},
    {"a step in the network's delay", test_delay_step},
    {"a packet off the frame grid", test_off_grid},
    {"sizes and arguments", test_sizes_and_args},
    {NULL, NULL},
};

UNIT_MAIN("jbuf", tests)
