/*
 * cli — `nagare logs <function> [-f] [--endpoint URL] [--region R]`: prints a
 * function's log lines (group /aws/lambda/<function>) through the HTTP API,
 * signed with the caller's credentials (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, else the default root test/test), as `aws logs tail`
 * does: FilterLogEvents, and with -f polling for new events every second.
 */
#ifndef NAGARE_LOGS_CLI_H
#define NAGARE_LOGS_CLI_H

/* argv[0] is "logs". Returns the process exit status. */
int logs_cli_main(int argc, char **argv);

#endif
