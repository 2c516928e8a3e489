// The profiler's kernel interfaces that Swift cannot import on its own:
// - libpfm4 (event-name encoding) and perf_event_open. libpfm4 brings its own copy of
//   perf_event.h, so the kernel header is not included as well. Swift cannot call the variadic
//   syscall(2) nor expand the _IO* ioctl request macros, so each gets a prefixed inline wrapper.
// - sched_getaffinity / sched_setaffinity, which need _GNU_SOURCE and the CPU_* macros.
#ifndef MODNAS_CPERFEVENT_SHIM_H
#define MODNAS_CPERFEVENT_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stddef.h>
#include <string.h>
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

/// sched_getaffinity(0, ...) as a plain byte mask (bit k%8 of byte k/8 = CPU k).
/// Returns the number of mask bytes written, or -1 with errno set.
static inline int modnas_get_affinity(unsigned char *mask, size_t bytes) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    size_t n = bytes < sizeof set ? bytes : sizeof set;
    memcpy(mask, &set, n);
    return (int)n;
}

/// sched_setaffinity(0, ...) from a plain byte mask (see modnas_get_affinity).
static inline int modnas_set_affinity(const unsigned char *mask, size_t bytes) {
    cpu_set_t set;
    CPU_ZERO(&set);
    memcpy(&set, mask, bytes < sizeof set ? bytes : sizeof set);
    return sched_setaffinity(0, sizeof set, &set);
}

#endif
