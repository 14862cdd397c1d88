/* token_cmd.h: `hallctl token new ROLE [STAFF]` and `hallctl token hash ID.SECRET`: tokens and
 * their Argon2id hashes for a hall's config, made locally (no daemon). */
#ifndef HK_CTL_TOKEN_CMD_H
#define HK_CTL_TOKEN_CMD_H

/* argv[0] is "token". Returns the exit status. */
int ctl_token_main(int argc, char **argv);

#endif
