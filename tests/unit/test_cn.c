/* test_cn.c: comfort noise (rtp/cn.c): levels in -dBov, the level a CN
 * payload signals, and the cadence of CN packets sent in silence. */
#include "rtp/rtp.h"
#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static void test_level(void)
{
	static int16_t pcm[160];

	memset(pcm, 0, sizeof(pcm));
	CU_ASSERT_EQUAL(cn_level_dbov(pcm, 160), CN_MAX_DBOV);
	CU_ASSERT_EQUAL(cn_level_dbov(pcm, 0), CN_MAX_DBOV);
	for (int i = 0; i < 160; i++)
		pcm[i] = i & 1 ? 32767 : -32767;
	CU_ASSERT_EQUAL(cn_level_dbov(pcm, 160), 0);
	for (int i = 0; i < 160; i++)
		pcm[i] = i & 1 ? 328 : -328; /* -40 dBov */
	CU_ASSERT_EQUAL(cn_level_dbov(pcm, 160), 40);
	pcm[0] = 1; /* one sample of 1: about -82 dBov */
	memset(pcm + 1, 0, sizeof(pcm) - sizeof(pcm[0]));
	CU_ASSERT_EQUAL(cn_level_dbov(pcm, 160), 112);
}

static void test_rx_level(void)
{
	static const uint8_t cn[] = {0x80 | 60, 1, 2};

	CU_ASSERT_EQUAL(cn_rx_level(cn, sizeof(cn)), 60);
	CU_ASSERT_EQUAL(cn_rx_level(cn, 0), CN_MAX_DBOV);
	CU_ASSERT_EQUAL(cn_rx_level(NULL, 3), CN_MAX_DBOV);
}

/* 20 ms packets: audio, then 1.2 s of silence, then audio again. */
static void test_cadence(void)
{
	static int16_t tone[160], silence[160];
	struct cn_tx t = {0};
	uint8_t out[4];
	bool marker;
	int sent_at[8], n_sent = 0;

	unit_sine(tone, 160, 1000, 8000, 8000, 0);
	CU_ASSERT_EQUAL(cn_tx_step(&t, tone, 160, 20, out, 4, &marker), -1);
	CU_ASSERT_FALSE(marker);
	for (int i = 0; i < 60; i++) {
		int r = cn_tx_step(&t, silence, 160, 20, out, 4, &marker);
		CU_ASSERT_FALSE(marker);
		CU_ASSERT(r == 0 || r == 1);
		if (r == 1 && n_sent < 8) {
			CU_ASSERT_EQUAL(out[0], CN_MAX_DBOV);
			sent_at[n_sent++] = i;
		}
	}
	/* the first silent packet time, then every 400 ms */
	CU_ASSERT_EQUAL(n_sent, 3);
	CU_ASSERT_EQUAL(sent_at[0], 0);
	CU_ASSERT_EQUAL(sent_at[1], 20);
	CU_ASSERT_EQUAL(sent_at[2], 40);
	CU_ASSERT_EQUAL(cn_tx_step(&t, tone, 160, 20, out, 4, &marker), -1);
	CU_ASSERT_TRUE(marker);
	CU_ASSERT_EQUAL(cn_tx_step(&t, tone, 160, 20, out, 4, &marker), -1);
	CU_ASSERT_FALSE(marker);
	CU_ASSERT_EQUAL(cn_tx_step(&t, silence, 160, 20, out, 0, &marker),
			-ENOSPC);
}

static const struct unit_test tests[] = {
    {"levels in -dBov", test_level},
    {"a CN payload's level", test_rx_level},
    {"CN cadence and the marker after it", test_cadence},
    {NULL, NULL},
};

UNIT_MAIN("cn", tests)
