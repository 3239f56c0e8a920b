/* `ohmwatch keygen`: the CURVE keys of a deployment (docs/security.md). */
#ifndef OW_CLI_KEYGEN_H
#define OW_CLI_KEYGEN_H

/* argv[0] is "keygen". Exit code: 0, 1 error, 2 usage. */
int ow_cli_keygen(int argc, char **argv);

#endif
