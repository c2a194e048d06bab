// Runtime dispatch (CPUID + XGETBV on x86, nothing to detect for the portable path), the worker pool that splits a
// GEMM's panels over threads, and the fused standard-LSTM time loop.

#include "kernels_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#endif

// MARK: - CPU features

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static int supported[LSTMK_PATH_COUNT];
static char features[256];
static char brand[64];

#if defined(__x86_64__) || defined(__i386__)
static unsigned long long read_xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static void append_feature(const char *name) {
    size_t used = strlen(features);
    if (used + strlen(name) + 2 >= sizeof features) return;
    if (used) features[used++] = ' ';
    strcpy(features + used, name);
}

static void detect(void) {
    supported[LSTMK_GENERIC] = 1;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
        int sse2 = (d >> 26) & 1, fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
        unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
        int ymm_os = (xcr0 & 0x6) == 0x6, zmm_os = (xcr0 & 0xE6) == 0xE6;
        int avx2 = 0, avx512f = 0, avx512vl = 0, avx512bw = 0;
        if (max_leaf >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            avx2 = (b >> 5) & 1;
            avx512f = (b >> 16) & 1;
            avx512bw = (b >> 30) & 1;
            avx512vl = (b >> 31) & 1;
        }
        if (sse2) append_feature("sse2");
        if (avx && ymm_os) append_feature("avx");
        if (avx2 && ymm_os) append_feature("avx2");
        if (fma && ymm_os) append_feature("fma");
        if (avx512f && zmm_os) append_feature("avx512f");
        if (avx512bw && zmm_os) append_feature("avx512bw");
        if (avx512vl && zmm_os) append_feature("avx512vl");
        supported[LSTMK_AVX2] = avx && avx2 && fma && ymm_os;
        supported[LSTMK_AVX512] = supported[LSTMK_AVX2] && avx512f && avx512vl && zmm_os;
    }
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
        unsigned regs[12];
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &regs[4 * leaf], &regs[4 * leaf + 1], &regs[4 * leaf + 2], &regs[4 * leaf + 3]);
        memcpy(brand, regs, 48);
        brand[48] = 0;
        // Trim the padding some CPUs put around the name.
        char *start = brand;
        while (*start == ' ') start++;
        memmove(brand, start, strlen(start) + 1);
        for (size_t n = strlen(brand); n > 0 && brand[n - 1] == ' '; n--) brand[n - 1] = 0;
    }
#elif defined(__aarch64__)
    append_feature("neon");
#endif
}

int lstmk_path_supported(int path) {
    pthread_once(&detect_once, detect);
    return path >= 0 && path < LSTMK_PATH_COUNT && supported[path];
}

int lstmk_best_path(void) {
    for (int path = LSTMK_PATH_COUNT - 1; path > 0; path--)
        if (lstmk_path_supported(path)) return path;
    return LSTMK_GENERIC;
}

const char *lstmk_path_name(int path) {
    switch (path) {
    case LSTMK_AVX2: return "avx2";
    case LSTMK_AVX512: return "avx512";
    default:
#if defined(__aarch64__)
        return "neon";
#else
        return "generic";
#endif
    }
}

const char *lstmk_cpu_features(void) {
    pthread_once(&detect_once, detect);
    return features;
}

const char *lstmk_cpu_brand(void) {
    pthread_once(&detect_once, detect);
    return brand;
}

// MARK: - Kernel tables

typedef struct {
    void (*gemm)(size_t, size_t, size_t, const float *, size_t, const float *, float *, size_t, int, size_t, size_t);
    void (*tanh_array)(float *, size_t);
    void (*sigmoid_array)(float *, size_t);
    void (*lstm_rows)(size_t, size_t, float *, float *, float *, float *, float *);
    void (*activate)(lstmk_activation, float *, size_t);
    void (*clip)(float *, size_t, float);
    void (*lstm_remember)(const lstmk_lstm_remember_args *);
    void (*lstm_use)(const lstmk_lstm_use_args *);
    void (*gru_after)(const lstmk_gru_args *);
    void (*gru_gates)(const lstmk_gru_args *);
    void (*gru_output)(const lstmk_gru_args *);
} kernel_table;

static kernel_table table_for(int path) {
#define TABLE(SFX)                                                                                                     \
    (kernel_table) {                                                                                                   \
        gemm_##SFX, tanh_array_##SFX, sigmoid_array_##SFX, lstm_rows_##SFX, activate_##SFX, clip_##SFX,               \
            lstm_remember_##SFX, lstm_use_##SFX, gru_after_##SFX, gru_gates_##SFX, gru_output_##SFX                    \
    }
    switch (path) {
#if defined(__x86_64__) || defined(__i386__)
    case LSTMK_AVX2:
        if (lstmk_path_supported(LSTMK_AVX2)) return TABLE(avx2);
        break;
#endif
#if defined(__x86_64__)
    case LSTMK_AVX512:
        if (lstmk_path_supported(LSTMK_AVX512)) return TABLE(avx512);
        break;
#endif
    default: break;
    }
    return TABLE(generic);
#undef TABLE
}

size_t lstmk_packed_count(size_t k, size_t n) {
    return (n + LSTMK_PANEL - 1) / LSTMK_PANEL * k * LSTMK_PANEL;
}

void lstmk_pack(size_t k, size_t n, const float *b, size_t ldb, float *packed) {
    size_t panels = (n + LSTMK_PANEL - 1) / LSTMK_PANEL;
    for (size_t p = 0; p < panels; p++) {
        size_t first = p * LSTMK_PANEL, width = n - first < LSTMK_PANEL ? n - first : LSTMK_PANEL;
        float *panel = packed + p * k * LSTMK_PANEL;
        for (size_t row = 0; row < k; row++) {
            memcpy(panel + row * LSTMK_PANEL, b + row * ldb + first, width * sizeof(float));
            for (size_t j = width; j < LSTMK_PANEL; j++) panel[row * LSTMK_PANEL + j] = 0;
        }
    }
}

void lstmk_pack_transposed(size_t k, size_t column, size_t count, const float *rows, size_t ld, float *packed) {
    // Row j lands in one column of one panel: K values 32 floats apart. Consecutive rows fill the same panel, which
    // stays in cache while its 32 rows are written.
    for (size_t j = 0; j < count; j++) {
        size_t n = column + j;
        float *target = packed + n / LSTMK_PANEL * k * LSTMK_PANEL + n % LSTMK_PANEL;
        const float *source = rows + j * ld;
        for (size_t kk = 0; kk < k; kk++) target[kk * LSTMK_PANEL] = source[kk];
    }
}

// MARK: - Worker pool

// Parts of a dispatch are claimed dynamically from one atomic word (generation | parts | next): the calling thread
// claims parts too, so a worker the scheduler has not run yet (a loaded machine) costs nothing — the caller does
// its share. Workers spin briefly on the generation (a time step is microseconds), then sleep on a condition
// variable. One dispatch at a time: a caller that finds the pool busy runs its parts on its own thread.

#include <sched.h>
#include <stdint.h>

enum { MAX_THREADS = 16, SPIN_ROUNDS = 1 << 14, MAX_PARTS = (1 << 20) - 1 };

typedef void (*job_fn)(void *context, int part, int parts);

static struct {
    pthread_mutex_t dispatch;  // held by the thread using the pool
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    _Atomic unsigned long generation;  // bumped to wake the workers
    _Atomic uint64_t claim;            // generation (24 bits) | parts (20) | next part (20)
    _Atomic size_t done;               // parts finished in this generation
    _Atomic int sleeping;
    int workers;
    job_fn job;
    void *context;
    unsigned long birth[MAX_THREADS];
} pool = {.dispatch = PTHREAD_MUTEX_INITIALIZER, .sleep_lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Claims the next part of generation `generation`; 0 when it has none left (or a newer generation started).
static int claim_part(unsigned long generation, int *part, int *parts) {
    uint64_t word = atomic_load(&pool.claim);
    for (;;) {
        if ((word >> 40) != (generation & 0xFFFFFF)) return 0;
        uint64_t count = (word >> 20) & 0xFFFFF, next = word & 0xFFFFF;
        if (next >= count) return 0;
        if (atomic_compare_exchange_weak(&pool.claim, &word, word + 1)) {
            *part = (int)next;
            *parts = (int)count;
            return 1;
        }
    }
}

/// Runs every part of `generation` this thread can claim. The claim's acquire makes the job visible.
static void work(unsigned long generation) {
    int part, parts;
    while (claim_part(generation, &part, &parts)) {
        pool.job(pool.context, part, parts);
        atomic_fetch_add(&pool.done, 1);
    }
}

static void *worker_main(void *argument) {
    int index = (int)(size_t)argument;
    unsigned long seen = pool.birth[index];  // the generation before the dispatch that started this worker
    for (;;) {
        unsigned long now;
        int spins = 0;
        while ((now = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen && spins < SPIN_ROUNDS) {
            cpu_relax();
            spins++;
        }
        if (now == seen) {
            pthread_mutex_lock(&pool.sleep_lock);
            atomic_fetch_add(&pool.sleeping, 1);
            while ((now = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.sleep_lock);
            atomic_fetch_sub(&pool.sleeping, 1);
            pthread_mutex_unlock(&pool.sleep_lock);
        }
        seen = now;
        work(seen);
    }
    return NULL;
}

/// Runs `job(context, part, parts)` for every part, on the calling thread and up to `threads - 1` workers.
static void run_parts(job_fn job, void *context, int parts, int threads) {
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (parts > MAX_PARTS) parts = MAX_PARTS;
    if (parts <= 1 || threads <= 1 || pthread_mutex_trylock(&pool.dispatch) != 0) {
        for (int part = 0; part < parts; part++) job(context, part, parts);
        return;
    }
    while (pool.workers < threads - 1) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pool.birth[pool.workers + 1] = atomic_load(&pool.generation);
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(size_t)(pool.workers + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.workers++;
    }
    unsigned long generation = atomic_load(&pool.generation) + 1;
    pool.job = job;
    pool.context = context;
    atomic_store(&pool.done, 0);
    atomic_store(&pool.claim, ((uint64_t)(generation & 0xFFFFFF) << 40) | ((uint64_t)parts << 20));
    atomic_store(&pool.generation, generation);
    if (atomic_load(&pool.sleeping) > 0) {
        pthread_mutex_lock(&pool.sleep_lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.sleep_lock);
    }
    work(generation);
    // Parts a worker claimed and is still running.
    for (int spins = 0; atomic_load(&pool.done) < (size_t)parts; spins++) {
        if (spins < SPIN_ROUNDS) cpu_relax(); else sched_yield();
    }
    pthread_mutex_unlock(&pool.dispatch);
}

// MARK: - Entry points

typedef struct {
    kernel_table kernels;
    size_t m, n, k, lda, ldc;
    const float *a, *packed;
    float *c;
    int accumulate;
} gemm_job;

static void gemm_part(void *context, int part, int parts) {
    gemm_job *g = context;
    size_t panels = (g->n + LSTMK_PANEL - 1) / LSTMK_PANEL;
    size_t p0 = panels * (size_t)part / (size_t)parts, p1 = panels * (size_t)(part + 1) / (size_t)parts;
    if (p0 < p1) g->kernels.gemm(g->m, g->n, g->k, g->a, g->lda, g->packed, g->c, g->ldc, g->accumulate, p0, p1);
}

/// Below this many multiply-adds a product stays on one thread (the hand-off costs about a microsecond).
static const size_t threaded_minimum = (size_t)1 << 17;

static void gemm_with(kernel_table kernels, int threads, size_t m, size_t n, size_t k, const float *a, size_t lda,
                      const float *packed, float *c, size_t ldc, int accumulate) {
    if (m == 0 || n == 0) return;
    size_t panels = (n + LSTMK_PANEL - 1) / LSTMK_PANEL;
    gemm_job job = {kernels, m, n, k, lda, ldc, a, packed, c, accumulate};
    // Several parts per thread, claimed dynamically, so that a slow or descheduled thread costs little.
    size_t parts = threads > 1 ? (size_t)threads * 4 : 1;
    if (parts > panels) parts = panels;
    if (m * n * k < threaded_minimum) parts = 1;
    if (parts == 1) {
        kernels.gemm(m, n, k, a, lda, packed, c, ldc, accumulate, 0, panels);
    } else {
        run_parts(gemm_part, &job, (int)parts, threads);
    }
}

void lstmk_gemm(int path, int threads, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                float *c, size_t ldc, int accumulate) {
    gemm_with(table_for(path), threads, m, n, k, a, lda, packed, c, ldc, accumulate);
}

void lstmk_sigmoid(int path, float *x, size_t count) { table_for(path).sigmoid_array(x, count); }

void lstmk_tanh(int path, float *x, size_t count) { table_for(path).tanh_array(x, count); }

void lstmk_lstm_standard(int path, int threads, const lstmk_lstm_args *args) {
    kernel_table kernels = table_for(path);
    size_t T = args->steps, B = args->batch, H = args->hidden, width = 4 * H;
    const float *previous = args->stm0;
    for (size_t step = args->first; step < args->last && step < T; step++) {
        size_t row = args->readsReversed ? T - 1 - step : step;
        float *gates = args->gates + (row - args->gatesRow) * B * width;
        float *slot = args->output + (args->writesReversed ? T - 1 - step : step) * B * H;
        gemm_with(kernels, threads, B, width, H, previous, H, args->recurrent, gates, width, 1);
        kernels.lstm_rows(B, H, gates, args->ltm, slot, args->traceLTM ? args->traceLTM + row * B * H : NULL,
                          args->traceU ? args->traceU + row * B * H : NULL);
        previous = slot;
    }
}

void lstmk_activate(int path, lstmk_activation activation, float *x, size_t count) {
    table_for(path).activate(activation, x, count);
}

void lstmk_clip(int path, float *x, size_t count, float limit) { table_for(path).clip(x, count, limit); }

void lstmk_lstm_remember(int path, const lstmk_lstm_remember_args *args) { table_for(path).lstm_remember(args); }

void lstmk_lstm_use(int path, const lstmk_lstm_use_args *args) { table_for(path).lstm_use(args); }

void lstmk_gru_after(int path, const lstmk_gru_args *args) { table_for(path).gru_after(args); }

void lstmk_gru_gates(int path, const lstmk_gru_args *args) { table_for(path).gru_gates(args); }

void lstmk_gru_output(int path, const lstmk_gru_args *args) { table_for(path).gru_output(args); }
