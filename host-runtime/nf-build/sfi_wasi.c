/*
 * The sandbox has no WASI: wasi-libc's stdio (pulled in by snprintf) still references a few WASI
 * calls, so they are defined here, inside the module, where they can reach nothing. Writes and
 * seeks fail with EBADF (there are no open files); exit traps, which the runtime reports as a fault.
 */
#include <stdint.h>

#define WASI_EBADF 8

int32_t __imported_wasi_snapshot_preview1_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t written)
{
	return WASI_EBADF;
}

int32_t __imported_wasi_snapshot_preview1_fd_seek(int32_t fd, int64_t off, int32_t whence, int32_t out)
{
	return WASI_EBADF;
}

int32_t __imported_wasi_snapshot_preview1_fd_close(int32_t fd) { return WASI_EBADF; }

int32_t __imported_wasi_snapshot_preview1_fd_fdstat_get(int32_t fd, int32_t out) { return WASI_EBADF; }

_Noreturn void __imported_wasi_snapshot_preview1_proc_exit(int32_t code) { __builtin_trap(); }
