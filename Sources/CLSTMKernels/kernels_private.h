#ifndef LSTMK_PRIVATE_H
#define LSTMK_PRIVATE_H

#include "include/CLSTMKernels.h"

#define LSTMK_DECLARE(SFX)                                                                                             \
    void gemm_##SFX(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed, float *c,          \
                    size_t ldc, int accumulate, size_t p0, size_t p1);                                                 \
    void tanh_array_##SFX(float *x, size_t count);                                                                     \
    void sigmoid_array_##SFX(float *x, size_t count);                                                                  \
    void lstm_rows_##SFX(size_t batch, size_t H, float *gates, float *ltm, float *out, float *traceLTM, float *traceU); \
    void activate_##SFX(lstmk_activation activation, float *x, size_t count);                                       \
    void clip_##SFX(float *x, size_t count, float limit);                                                             \
    void lstm_remember_##SFX(const lstmk_lstm_remember_args *args);                                                   \
    void lstm_use_##SFX(const lstmk_lstm_use_args *args);                                                             \
    void gru_after_##SFX(const lstmk_gru_args *args);                                                                 \
    void gru_gates_##SFX(const lstmk_gru_args *args);                                                                 \
    void gru_output_##SFX(const lstmk_gru_args *args);

LSTMK_DECLARE(generic)
#if defined(__x86_64__) || defined(__i386__)
LSTMK_DECLARE(avx2)
#endif
#if defined(__x86_64__)
LSTMK_DECLARE(avx512)
#endif

#endif
