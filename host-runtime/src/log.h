/*
 * Where the runtime's log lines go (NF logs through nfp_log, quarantines): stderr, or the file
 * named by NFP_LOG_FILE (appended to, line-buffered), so a test run can keep the lines its
 * deliberate faults provoke out of the test output and in a file. Thread-safe; opened once.
 */
#ifndef NFP_LOG_H
#define NFP_LOG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

FILE *nfp_log_stream(void);

#ifdef __cplusplus
}
#endif

#endif
