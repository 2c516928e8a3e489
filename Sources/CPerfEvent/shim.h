// libpfm4 (event-name encoding) and the perf_event_open interface.
// Swift cannot call the variadic syscall(2) nor expand the _IO* ioctl request macros, so each
// gets a small prefixed inline wrapper here; everything else is imported as is.
#ifndef MODNAS_CPERFEVENT_SHIM_H
#define MODNAS_CPERFEVENT_SHIM_H

#include <perfmon/pfmlib_perf_event.h>
#include <linux/perf_event.h>
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

#endif
