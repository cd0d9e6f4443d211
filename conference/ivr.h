/* ivr.h: the dial-in dialogue and the in-call keypad (conference/ivr*.c),
 * as the rest of the focus sees them.
 *
 * A caller who dials in is answered at once but is not yet in the room:
 * its media joins the room's mixer muted and deaf ("isolated") and it
 * hears only prompts, played to it alone, until the dialogue admits it
 * (the PIN, the moderator PIN, or a room without one) or sends it away
 * with a goodbye and a BYE. Until admitted, it is not seen by the room's
 * subscribers, the control API or its events. Once in, its keypad works:
 * mute, volumes, leave, help, and for moderators lock, mute all and
 * remove the last caller. Participants we dial out to are in at once.
 *
 * Signalling thread only. The dialogue of a participant belongs to it and
 * goes with it (ivr_free()). */
#ifndef TUTTI_CONFERENCE_IVR_H
#define TUTTI_CONFERENCE_IVR_H

#include "conference/focus.h"

/* Loads the prompts and makes the tones (conference start); -ENOMEM. A
 * prompt whose file is missing is played as a tone. */
int ivr_init(struct conference *c);
void ivr_shutdown(struct conference *c); /* after every room is gone */

/* p's media has joined its room's mixer: a caller dialled in starts the
 * dialogue, a participant we dialled out to is in the call. Once. */
void ivr_start(struct participant *p);
/* A key p pressed, from whichever source (RFC 4733, in-band, INFO). */
void ivr_on_digit(struct participant *p, const struct digit *d);
/* The mixer has played out what was queued for p (MIXER_EV_PLAYED). */
void ivr_on_played(struct participant *p, uint32_t tag);
/* p is leaving its room (BYE, kick): the leave tone, and the end of the
 * conference when it was the last moderator and the options say so. */
void ivr_on_leave(struct participant *p);
void ivr_free(struct participant *p); /* NULL-safe dialogue */
/* The API has made p a moderator: callers waiting for one come in. */
void ivr_on_promoted(struct participant *p);
/* Timeouts (digits, prompts that never finished); sig_ua.c's timer calls
 * it a few times a second. */
void ivr_tick(struct conference *c, uint64_t now_ns);

/* room.c has moved p to the room it asked for (arrived), or could not
 * (the room went away meanwhile): the dialogue goes on there. */
void ivr_moved(struct participant *p, bool arrived);

/* sig_call.c: ends p's call with BYE, remembered as `how` (and `by`, the
 * moderator who acted, or NULL). -ENOENT when p has no call. */
int sig_call_hangup(struct participant *p, enum ci_disconnection how,
		    const char *by);
/* sig_call.c: p's call now belongs to p->room (it moved). */
void sig_call_moved(struct participant *p);

#endif
