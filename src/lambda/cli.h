/*
 * cli — `nagare invoke <function> [payload] [--endpoint URL] [--region R] [--qualifier Q]
 * [--key ID:SECRET]`: one synchronous Invoke through the HTTP API (REST-JSON, signed with the
 * root credentials test/test unless --key says otherwise), asking for the log tail
 * (X-Amz-Log-Type: Tail). The result payload goes to stdout and the function's log tail to
 * stderr, as `aws lambda invoke --log-type Tail` would show them, without the CLI.
 *
 * Exit status: 0 success, 1 the function failed (X-Amz-Function-Error), 2 usage,
 * 3 the call itself failed (no server, an AWS error such as ResourceNotFoundException).
 */
#ifndef NAGARE_LAMBDA_CLI_H
#define NAGARE_LAMBDA_CLI_H

/* argv[0] is "invoke". Returns the process exit status. */
int lambda_cli_main(int argc, char **argv);

#endif
