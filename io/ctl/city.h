/* city.h: `hallctl city`, a city-level consumer of several halls' event streams in one
 * Redis (docs/streams.md). It reads Redis directly, through a consumer group, not the daemons. */
#ifndef HK_HALLCTL_CITY_H
#define HK_HALLCTL_CITY_H

#include <stdbool.h>

/* Follows hall:{ID}:events of every hall in halls[] and prints a table (or, with json, one JSON
 * line per update) on each change of a hall's waiting counts, ratings or emergency. url:
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///path. count > 0: stop after that many
 * updates. Runs until interrupted; returns the exit status (0, 1 Redis error, 2 usage, 3 cannot
 * connect). */
int ctl_city_main(const char *url, char *const *halls, int nhalls, bool json, long count, int timeout_ms);

#endif
