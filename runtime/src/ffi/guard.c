/* The fault guard around foreign calls (see guard.rs).
 *
 * Written in C because setjmp must be called by the frame that longjmp returns to,
 * and Rust has no way to express a function that returns twice.
 *
 * A thread inside kiln_ffi_guarded has `current` pointing at its jump buffer; the handler
 * of the five fault signals jumps back there. Everywhere else the handler passes the
 * signal on to whoever had it before (Rust's std turns a SIGSEGV on a guard page into its
 * "has overflowed its stack" message), so a fault outside a foreign call still ends the
 * process as it did before this file existed.
 *
 * A cell interrupt cannot stop C code: the interrupt flag is only read by compiled loops,
 * and there is no safe point inside a C function to leave it from. The interrupt takes
 * effect when the call returns.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
    /* GCC's and Clang's __builtin_setjmp buffer: the frame, stack pointer and resume
     * address. Lighter than sigsetjmp (which also goes through __sigjmp_save on every
     * call): the compiler saves the callee-saved registers around the setjmp itself. The
     * signal mask is not saved either way (see install). */
    void *env[5];
    struct guard *prev;
    /* Written by the handler, read after the jump back. */
    volatile int sig;
    volatile int code;
    void *volatile addr;
};

static const int SIGNALS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NSIG_GUARDED (sizeof SIGNALS / sizeof SIGNALS[0])

/* What each signal did before we took it over, to pass unguarded signals on. */
static struct sigaction previous[NSIG_GUARDED];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* initial-exec: the handler reads it, and a dynamic TLS access (__tls_get_addr) may
 * allocate, which a signal handler must not do. */
static __thread struct guard *current __attribute__((tls_model("initial-exec")));
/* si_code of the last fault this thread caught (the SIGFPE kind: integer division...). */
static __thread int last_code __attribute__((tls_model("initial-exec")));

/* Only faults the thread caused itself are C crashes: a SIGSEGV that `kill` sent, or an
 * abort another process asked for, is not the C function's doing and goes on as before. */
static int caused_here(int sig, const siginfo_t *info) {
    if (sig == SIGABRT) {
        /* abort() and raise() send it with tgkill to the calling thread. */
        return info->si_code == SI_TKILL && info->si_pid == getpid();
    }
    return info->si_code > 0; /* a fault the kernel raised for an instruction */
}

static void pass_on(int sig, siginfo_t *info, void *uctx, const struct sigaction *old) {
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    if (old->sa_handler == SIG_IGN && info->si_code <= 0) {
        return; /* a sent signal that was ignored stays ignored */
    }
    /* The default action. A fault re-executes the instruction once we return and faults
     * again with SIG_DFL in place (a core dump then shows the real place); a sent signal
     * does not come back by itself, so send it again. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (info->si_code <= 0) {
        raise(sig);
    }
}

static void handler(int sig, siginfo_t *info, void *uctx) {
    struct guard *g = current;
    if (g != NULL && caused_here(sig, info)) {
        g->sig = sig;
        g->code = info->si_code;
        g->addr = info->si_addr;
        current = g->prev;
        __builtin_longjmp(g->env, 1);
    }
    for (size_t i = 0; i < NSIG_GUARDED; i++) {
        if (SIGNALS[i] == sig) {
            pass_on(sig, info, uctx, &previous[i]);
            return;
        }
    }
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    /* ONSTACK: a stack overflow leaves no stack to run the handler on.
     * NODEFER: the handler leaves by a jump that does not restore the signal mask (saving
     * it would cost a system call on every foreign call), so the kernel must not add the
     * signal to the mask while the handler runs. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIG_GUARDED; i++) {
        sigaction(SIGNALS[i], &sa, &previous[i]);
    }
}

/* The alternate signal stacks this file made, freed when their thread ends. */
static pthread_key_t altstack_key;
static pthread_once_t altstack_key_once = PTHREAD_ONCE_INIT;

struct altstack {
    void *base;
    size_t size;
};

static void altstack_free(void *p) {
    struct altstack *a = p;
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
    munmap(a->base, a->size);
    free(a);
}

static void altstack_key_make(void) {
    pthread_key_create(&altstack_key, altstack_free);
}

/* Rust's std gives its threads an alternate signal stack, but a thread made elsewhere (by
 * a C library, or a host that embeds Kiln) may have none, and then a stack overflow in C
 * kills the process before the handler can run.
 * Called once per thread (see thread_ready): a foreign call in a hot loop should not pay a
 * system call. */
static void ensure_altstack(void) {
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0 || !(cur.ss_flags & SS_DISABLE)) {
        return;
    }
    size_t size = 64 * 1024;
#ifdef _SC_SIGSTKSZ
    long min = sysconf(_SC_SIGSTKSZ); /* larger with AVX-512 state to save */
    if (min > 0 && (size_t)min * 4 > size) {
        size = (size_t)min * 4;
    }
#endif
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        return; /* faults are still caught; only a stack overflow is not */
    }
    struct altstack *a = malloc(sizeof *a);
    if (a == NULL) {
        munmap(base, size);
        return;
    }
    a->base = base;
    a->size = size;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = base;
    ss.ss_size = size;
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(base, size);
        free(a);
        return;
    }
    pthread_once(&altstack_key_once, altstack_key_make);
    pthread_setspecific(altstack_key, a);
}

/* Whether this thread has the handlers installed and an alternate stack. */
static __thread int thread_ready __attribute__((tls_model("initial-exec")));

/* Runs thunk(buf). Returns 0 when it returned, or the signal that interrupted it, with the
 * fault address in *fault_addr (si_addr: the bad address for SIGSEGV/SIGBUS, the
 * instruction for SIGFPE/SIGILL). Nested calls (C calling back into code that calls C
 * again) each get their own buffer; the innermost one catches. */
int kiln_ffi_guarded(void (*thunk)(void *), void *buf, void **fault_addr) {
    if (!thread_ready) {
        pthread_once(&install_once, install);
        ensure_altstack();
        thread_ready = 1;
    }
    struct guard g;
    /* volatile: read after the jump back, and the frame's registers are not restored. */
    struct guard *volatile prev = current;
    g.prev = prev;
    g.sig = 0;
    g.addr = NULL;
    /* The mask is not saved (see install); the handler ran with the mask the C code had,
     * which is the caller's unless the C code changed it. */
    if (__builtin_setjmp(g.env) == 0) {
        current = &g;
        thunk(buf);
        current = prev;
        return 0;
    }
    current = prev;
    /* Whatever the C code blocked, the guarded signals must be deliverable again, or the
     * next fault in C would kill the process instead of being caught. */
    sigset_t guarded;
    sigemptyset(&guarded);
    for (size_t i = 0; i < NSIG_GUARDED; i++) {
        sigaddset(&guarded, SIGNALS[i]);
    }
    pthread_sigmask(SIG_UNBLOCK, &guarded, NULL);
    last_code = g.code;
    *fault_addr = g.addr;
    return g.sig;
}

/* The si_code of the fault the last kiln_ffi_guarded on this thread caught. */
int kiln_ffi_last_code(void) {
    return last_code;
}
