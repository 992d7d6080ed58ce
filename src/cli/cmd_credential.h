/*
 * cmd_credential.h
 *	  `ironlayer credential put`: seal a secret and store it through libpq.
 */
#ifndef IL_CMD_CREDENTIAL_H
#define IL_CMD_CREDENTIAL_H

extern int	il_cmd_credential(int argc, char **argv);

#endif							/* IL_CMD_CREDENTIAL_H */
