/*
 * log — one-line diagnostics to stderr.
 *
 * The server prints little: a ready line, warnings and fatal errors. Level
 * "debug" is enabled by NAGARE_DEBUG=1 in the environment.
 */
#ifndef NAGARE_BASE_LOG_H
#define NAGARE_BASE_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
