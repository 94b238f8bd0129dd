#include "log.h"

#include <stdlib.h>

extern "C" FILE *nfp_log_stream(void)
{
	// A function-local static is initialised once, thread-safely (C++11).
	static FILE *const stream = [] {
		const char *path = getenv("NFP_LOG_FILE");
		FILE *f = path && path[0] ? fopen(path, "a") : nullptr;
		if (f == nullptr)
			return stderr;
		setvbuf(f, nullptr, _IOLBF, 0);
		return f;
	}();
	return stream;
}
