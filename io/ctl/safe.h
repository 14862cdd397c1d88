/* safe.h: what hallctl received, made safe to print on a terminal: control characters become
 * visible escapes, so no frame from a daemon (or from whoever typed a pause reason) can move the
 * cursor, retitle the window or clear the screen of the operator. */
#ifndef HK_CTL_SAFE_H
#define HK_CTL_SAFE_H

#include "core/val.h"

/* Rewrites every string of v in place: C0 controls, DEL and C1 controls as \xNN (\u00NN for C1),
 * a backslash as \\, invalid UTF-8 as U+FFFD. Map keys are left as they are (hallctl prints
 * only keys it knows, and event fields through ctl_print_event, which quotes them as JSON). */
void ctl_safe_text(hv *v);

#endif
