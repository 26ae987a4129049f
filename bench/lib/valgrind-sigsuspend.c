// Lets valgrind 3.19 run Reprise. Swift's async main parks the main thread in libdispatch's
// `_dispatch_sigsuspend`, which calls `sigsuspend` on a `static const sigset_t` (read-only
// memory); valgrind's rt_sigsuspend wrapper writes into the mask it is given and dies with an
// internal SIGSEGV. Preloaded (LD_PRELOAD) under valgrind only, this `sigsuspend` passes a
// writable copy of the same mask. Built by bench/probes/instructions-per-hit.sh:
//   cc -shared -fPIC -O2 -o libvalgrind-sigsuspend.so bench/lib/valgrind-sigsuspend.c
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
