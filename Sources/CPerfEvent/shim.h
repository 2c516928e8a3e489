// The profiler's kernel interfaces that Swift cannot import on its own:
// - libpfm4 (event-name encoding) and perf_event_open. libpfm4 brings its own copy of
//   perf_event.h, so the kernel header is not included as well. Swift cannot call the variadic
//   syscall(2) nor expand the _IO* ioctl request macros, so each gets a prefixed inline wrapper.
// - sched_getaffinity / sched_setaffinity: glibc declares them only under _GNU_SOURCE, which
//   must not be defined here (it changes glibc's structs for every module importing this one),
//   so they are called as raw syscalls on a plain byte mask.
#ifndef MODNAS_CPERFEVENT_SHIM_H
#define MODNAS_CPERFEVENT_SHIM_H

#include <stddef.h>
#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Wraps syscall(SYS_perf_event_open, ...): glibc has no perf_event_open function.
static inline int modnas_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu,
                                         int group_fd, unsigned long flags) {
    return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

/// ioctl(fd, PERF_EVENT_IOC_ENABLE, flags): the request is a macro Swift cannot import.
static inline int modnas_perf_event_enable(int fd, unsigned long flags) {
    return ioctl(fd, PERF_EVENT_IOC_ENABLE, flags);
}

/// ioctl(fd, PERF_EVENT_IOC_DISABLE, flags).
static inline int modnas_perf_event_disable(int fd, unsigned long flags) {
    return ioctl(fd, PERF_EVENT_IOC_DISABLE, flags);
}

/// ioctl(fd, PERF_EVENT_IOC_RESET, flags).
static inline int modnas_perf_event_reset(int fd, unsigned long flags) {
    return ioctl(fd, PERF_EVENT_IOC_RESET, flags);
}

/// The raw sched_getaffinity syscall for the calling thread: fills `mask` (bit k%8 of byte k/8 =
/// CPU k; `bytes` a multiple of 8). Returns the number of mask bytes the kernel wrote, or -1 (errno).
static inline int modnas_get_affinity(unsigned char *mask, size_t bytes) {
    return (int)syscall(SYS_sched_getaffinity, 0, bytes, mask);
}

/// The raw sched_setaffinity syscall for the calling thread (mask as in modnas_get_affinity).
static inline int modnas_set_affinity(const unsigned char *mask, size_t bytes) {
    return (int)syscall(SYS_sched_setaffinity, 0, bytes, mask);
}

#endif
