// One instruction set's kernels. Included once per path by Kernels*.c with:
//   SUFFIX   name suffix (generic, avx2, avx512)
//   ATTR     the functions' target attribute (empty for generic)
//   W        floats per vector, MR rows per GEMM micro-kernel, KS K-splits in the one-row kernel
// Written with the compiler's vector extensions, so one source serves every ISA (NEON on arm64 for generic).

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(name, SUFFIX)
#define V (LSTMK_PANEL / W)
#define INL static inline __attribute__((always_inline)) ATTR

typedef float FN(vf) __attribute__((ext_vector_type(W)));
#define vf FN(vf)

INL vf FN(load)(const float *p) { vf v; __builtin_memcpy(&v, p, sizeof v); return v; }
INL void FN(store)(float *p, vf v) { __builtin_memcpy(p, &v, sizeof v); }
INL vf FN(splat)(float x) { return (vf)(x); }

/// MR rows × one 32-column panel over `kc`: c (+)= a · panel.
INL void FN(kernel_rows)(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, int acc,
                         size_t ncols) {
    vf s[MR][V];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < V; v++) s[r][v] = FN(splat)(0.0f);
    for (size_t p = 0; p < kc; p++) {
        vf bv[V];
        for (int v = 0; v < V; v++) bv[v] = FN(load)(b + p * LSTMK_PANEL + v * W);
        for (int r = 0; r < MR; r++) {
            vf ar = FN(splat)(a[r * lda + p]);
            for (int v = 0; v < V; v++) s[r][v] = ar * bv[v] + s[r][v];
        }
    }
    if (ncols == LSTMK_PANEL) {
        for (int r = 0; r < MR; r++)
            for (int v = 0; v < V; v++) {
                float *out = c + r * ldc + v * W;
                FN(store)(out, acc ? FN(load)(out) + s[r][v] : s[r][v]);
            }
    } else {
        for (int r = 0; r < MR; r++) {
            float row[LSTMK_PANEL];
            for (int v = 0; v < V; v++) FN(store)(row + v * W, s[r][v]);
            for (size_t j = 0; j < ncols; j++) c[r * ldc + j] = acc ? c[r * ldc + j] + row[j] : row[j];
        }
    }
}

/// One row × one panel, K split KS ways for independent accumulators (the GEMV of batch 1).
INL void FN(kernel_row)(size_t kc, const float *a, const float *b, float *c, int acc, size_t ncols) {
    vf s[KS][V];
    for (int q = 0; q < KS; q++)
        for (int v = 0; v < V; v++) s[q][v] = FN(splat)(0.0f);
    size_t p = 0;
    for (; p + KS <= kc; p += KS) {
        for (int q = 0; q < KS; q++) {
            vf ar = FN(splat)(a[p + q]);
            const float *row = b + (p + q) * LSTMK_PANEL;
            for (int v = 0; v < V; v++) s[q][v] = ar * FN(load)(row + v * W) + s[q][v];
        }
    }
    for (; p < kc; p++) {
        vf ar = FN(splat)(a[p]);
        for (int v = 0; v < V; v++) s[0][v] = ar * FN(load)(b + p * LSTMK_PANEL + v * W) + s[0][v];
    }
    for (int q = 1; q < KS; q++)
        for (int v = 0; v < V; v++) s[0][v] += s[q][v];
    if (ncols == LSTMK_PANEL) {
        for (int v = 0; v < V; v++) FN(store)(c + v * W, acc ? FN(load)(c + v * W) + s[0][v] : s[0][v]);
    } else {
        float row[LSTMK_PANEL];
        for (int v = 0; v < V; v++) FN(store)(row + v * W, s[0][v]);
        for (size_t j = 0; j < ncols; j++) c[j] = acc ? c[j] + row[j] : row[j];
    }
}

/// Single-threaded packed GEMM over panels `[p0, p1)` (GotoBLAS loop order: K blocks, M blocks, panels).
ATTR void FN(gemm)(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed, float *c,
                   size_t ldc, int accumulate, size_t p0, size_t p1) {
    enum { KC = 256, MC = 96 };
    if (k == 0) {
        if (!accumulate)
            for (size_t i = 0; i < m; i++)
                for (size_t j = p0 * LSTMK_PANEL; j < n && j < p1 * LSTMK_PANEL; j++) c[i * ldc + j] = 0;
        return;
    }
    for (size_t k0 = 0; k0 < k; k0 += KC) {
        size_t kc = k - k0 < KC ? k - k0 : KC;
        int acc = accumulate || k0 > 0;
        for (size_t m0 = 0; m0 < m; m0 += MC) {
            size_t mc = m - m0 < MC ? m - m0 : MC;
            for (size_t p = p0; p < p1; p++) {
                const float *panel = packed + p * k * LSTMK_PANEL + k0 * LSTMK_PANEL;
                size_t ncols = n - p * LSTMK_PANEL < LSTMK_PANEL ? n - p * LSTMK_PANEL : LSTMK_PANEL;
                size_t r = 0;
                for (; r + MR <= mc; r += MR)
                    FN(kernel_rows)(kc, a + (m0 + r) * lda + k0, lda, panel, c + (m0 + r) * ldc + p * LSTMK_PANEL, ldc,
                                    acc, ncols);
                for (; r < mc; r++)
                    FN(kernel_row)(kc, a + (m0 + r) * lda + k0, panel, c + (m0 + r) * ldc + p * LSTMK_PANEL, acc, ncols);
            }
        }
    }
}

// tanh x ≈ x·P(x²)/Q(x²) on x clamped to ±7.9053 (Eigen's float approximation, as VectorMath.swift);
// sigmoid x = 0.5·tanh(x/2) + 0.5.
#define TANH_BODY(T, MINF, MAXF)                                                                                       \
    T x = MINF(MAXF(value, (T)(-7.90531110763549805f)), (T)(7.90531110763549805f));                                             \
    T x2 = x * x;                                                                                                      \
    T p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;                                                         \
    p = p * x2 + -8.60467152213735e-11f;                                                                               \
    p = p * x2 + 5.12229709037114e-08f;                                                                                \
    p = p * x2 + 1.48572235717979e-05f;                                                                                \
    p = p * x2 + 6.37261928875436e-04f;                                                                                \
    p = p * x2 + 4.89352455891786e-03f;                                                                                \
    T q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;                                                          \
    q = q * x2 + 2.26843463243900e-03f;                                                                                \
    q = q * x2 + 4.89352518554385e-03f;                                                                                \
    return x * p / q;

// The clamp drops NaN (min/max return the other operand); NaN is passed through afterwards, as the frameworks do.
INL float FN(tanh_clamped1)(float value) { TANH_BODY(float, __builtin_fminf, __builtin_fmaxf) }
INL float FN(tanh1)(float value) { return value != value ? value : FN(tanh_clamped1)(value); }
INL float FN(sigmoid1)(float x) { return FN(tanh1)(x * 0.5f) * 0.5f + 0.5f; }
typedef int FN(vi) __attribute__((ext_vector_type(W)));
INL vf FN(tanh_clampedv)(vf value) { TANH_BODY(vf, __builtin_elementwise_min, __builtin_elementwise_max) }
INL vf FN(tanhv)(vf value) {
    FN(vi) nan = value != value;  // all ones where NaN
    return (vf)(((FN(vi))FN(tanh_clampedv)(value) & ~nan) | ((FN(vi))value & nan));
}
INL vf FN(sigmoidv)(vf x) { return FN(tanhv)(x * 0.5f) * 0.5f + 0.5f; }

ATTR void FN(tanh_array)(float *x, size_t count) {
    size_t k = 0;
    for (; k + W <= count; k += W) FN(store)(x + k, FN(tanhv)(FN(load)(x + k)));
    for (; k < count; k++) x[k] = FN(tanh1)(x[k]);
}

ATTR void FN(sigmoid_array)(float *x, size_t count) {
    size_t k = 0;
    for (; k + W <= count; k += W) FN(store)(x + k, FN(sigmoidv)(FN(load)(x + k)));
    for (; k < count; k++) x[k] = FN(sigmoid1)(x[k]);
}

/// The standard LSTM's gate pass over `batch` rows of one step: gates `[B, 4H]` (i, f, N, V pre-activations)
/// are activated in place, `ltm [B, H]` becomes LTM_t and `out [B, H]` gets STM_t = V·tanh(LTM_t); `traceLTM`
/// and `traceU` (optional) receive LTM_t and tanh(LTM_t).
ATTR void FN(lstm_rows)(size_t batch, size_t H, float *gates, float *ltm, float *out, float *traceLTM, float *traceU) {
    for (size_t b = 0; b < batch; b++) {
        float *i = gates + b * 4 * H, *f = i + H, *N = i + 2 * H, *o = i + 3 * H;
        float *c = ltm + b * H, *h = out + b * H;
        if (traceLTM && traceU) {
            for (size_t k = 0; k < H; k++) {
                float iv = FN(sigmoid1)(i[k]), fv = FN(sigmoid1)(f[k]), nv = FN(tanh1)(N[k]), ov = FN(sigmoid1)(o[k]);
                float cv = c[k] * fv + nv * iv, u = FN(tanh1)(cv);
                c[k] = cv;
                h[k] = ov * u;
                i[k] = iv, f[k] = fv, N[k] = nv, o[k] = ov;
                traceLTM[b * H + k] = cv;
                traceU[b * H + k] = u;
            }
            continue;
        }
        size_t k = 0;
        for (; k + W <= H; k += W) {
            vf iv = FN(sigmoidv)(FN(load)(i + k)), fv = FN(sigmoidv)(FN(load)(f + k));
            vf nv = FN(tanhv)(FN(load)(N + k)), ov = FN(sigmoidv)(FN(load)(o + k));
            vf cv = FN(load)(c + k) * fv + nv * iv;
            FN(store)(c + k, cv);
            FN(store)(h + k, ov * FN(tanhv)(cv));
            FN(store)(i + k, iv);
            FN(store)(f + k, fv);
            FN(store)(N + k, nv);
            FN(store)(o + k, ov);
        }
        for (; k < H; k++) {
            float iv = FN(sigmoid1)(i[k]), fv = FN(sigmoid1)(f[k]), nv = FN(tanh1)(N[k]), ov = FN(sigmoid1)(o[k]);
            float cv = c[k] * fv + nv * iv;
            c[k] = cv;
            h[k] = ov * FN(tanh1)(cv);
            i[k] = iv, f[k] = fv, N[k] = nv, o[k] = ov;
        }
    }
}

// MARK: - Gate math of the other variants (NaN passes through every clamp, as in the reference engine)

/// `result` where `x` is a number, `x` (NaN) where it is not.
INL vf FN(keep_nan)(vf result, vf x) {
    FN(vi) nan = x != x;
    return (vf)(((FN(vi))result & ~nan) | ((FN(vi))x & nan));
}
/// `min(max(v, lo), hi)` with Swift's `min`/`max` semantics (NaN stays NaN).
INL float FN(clamp1)(float v, float lo, float hi) {
    float m = lo >= v ? lo : v;
    return hi < m ? hi : m;
}
INL vf FN(clampv)(vf v, float lo, float hi) {
    return FN(keep_nan)(__builtin_elementwise_min(__builtin_elementwise_max(v, FN(splat)(lo)), FN(splat)(hi)), v);
}

INL float FN(act1)(lstmk_activation a, float x) {
    switch (a.kind) {
    case LSTMK_ACT_SIGMOID: return FN(sigmoid1)(x);
    case LSTMK_ACT_HARD_SIGMOID: return FN(clamp1)(a.slope * x + a.offset, 0.0f, 1.0f);
    case LSTMK_ACT_TANH: return FN(tanh1)(x);
    case LSTMK_ACT_RELU: return 0.0f >= x ? 0.0f : x;
    default: return x;
    }
}

INL vf FN(actv)(lstmk_activation a, vf x) {
    switch (a.kind) {
    case LSTMK_ACT_SIGMOID: return FN(sigmoidv)(x);
    case LSTMK_ACT_HARD_SIGMOID: return FN(clampv)(x * a.slope + a.offset, 0.0f, 1.0f);
    case LSTMK_ACT_TANH: return FN(tanhv)(x);
    case LSTMK_ACT_RELU: return FN(keep_nan)(__builtin_elementwise_max(x, FN(splat)(0.0f)), x);
    default: return x;
    }
}

INL void FN(act_n)(lstmk_activation a, float *x, size_t n) {
    if (a.kind == LSTMK_ACT_LINEAR) return;
    size_t k = 0;
    for (; k + W <= n; k += W) FN(store)(x + k, FN(actv)(a, FN(load)(x + k)));
    for (; k < n; k++) x[k] = FN(act1)(a, x[k]);
}

INL void FN(clip_n)(float *x, size_t n, float limit) {
    size_t k = 0;
    for (; k + W <= n; k += W) FN(store)(x + k, FN(clampv)(FN(load)(x + k), -limit, limit));
    for (; k < n; k++) x[k] = FN(clamp1)(x[k], -limit, limit);
}

/// `x += a·b` over `n` values.
INL void FN(add_product_n)(float *x, const float *a, const float *b, size_t n) {
    size_t k = 0;
    for (; k + W <= n; k += W) FN(store)(x + k, FN(load)(x + k) + FN(load)(a + k) * FN(load)(b + k));
    for (; k < n; k++) x[k] += a[k] * b[k];
}

/// `out = z·previous + (1 - z)·candidate` over `n` values.
INL void FN(gru_mix_n)(float *out, const float *z, const float *previous, const float *candidate, size_t n) {
    size_t k = 0;
    for (; k + W <= n; k += W) {
        vf zv = FN(load)(z + k);
        FN(store)(out + k, zv * FN(load)(previous + k) + (1.0f - zv) * FN(load)(candidate + k));
    }
    for (; k < n; k++) out[k] = z[k] * previous[k] + (1.0f - z[k]) * candidate[k];
}

ATTR void FN(activate)(lstmk_activation activation, float *x, size_t count) { FN(act_n)(activation, x, count); }

ATTR void FN(clip)(float *x, size_t count, float limit) { FN(clip_n)(x, count, limit); }

ATTR void FN(lstm_remember)(const lstmk_lstm_remember_args *a) {
    size_t H = a->hidden;
    for (size_t b = 0; b < a->batch; b++) {
        float *i = a->gates + b * 4 * H, *f = i + H, *N = i + 2 * H;
        const float *previous = a->ltmPrevious + b * H;
        float *next = a->ltmNext + b * H;
        if (a->peepholes) {
            FN(add_product_n)(i, a->peepholes, previous, H);
            FN(add_product_n)(f, a->peepholes + H, previous, H);
        }
        if (a->hasGateClip) FN(clip_n)(i, 3 * H, a->gateClip);
        FN(act_n)(a->recurrentActivation, i, 2 * H);
        FN(act_n)(a->activation, N, H);
        float *forgotten = a->forgotten ? a->forgotten + b * H : 0;
        size_t k = 0;
        for (; k + W <= H; k += W) {
            vf kept = FN(load)(previous + k) * FN(load)(f + k);
            FN(store)(next + k, kept + FN(load)(N + k) * FN(load)(i + k));
            if (forgotten) FN(store)(forgotten + k, kept);
        }
        for (; k < H; k++) {
            next[k] = previous[k] * f[k] + N[k] * i[k];
            if (forgotten) forgotten[k] = previous[k] * f[k];
        }
        if (a->hasCellClip) FN(clip_n)(next, H, a->cellClip);
    }
}

ATTR void FN(lstm_use)(const lstmk_lstm_use_args *a) {
    size_t H = a->hidden;
    for (size_t b = 0; b < a->batch; b++) {
        float *v = a->gates + b * 4 * H + 3 * H, *out = a->out + b * a->outStride;
        const float *ltm = a->ltm + b * H;
        if (a->peepholes) FN(add_product_n)(v, a->peepholes + 2 * H, ltm, H);
        if (a->hasGateClip) FN(clip_n)(v, H, a->gateClip);
        FN(act_n)(a->recurrentActivation, v, H);
        float *U;
        if (a->use) {
            U = a->use + b * H;
        } else {
            U = a->squashed + b * H;
            __builtin_memcpy(U, ltm, H * sizeof(float));
        }
        FN(act_n)(a->activation, U, H);
        size_t k = 0;
        for (; k + W <= H; k += W) FN(store)(out + k, FN(load)(v + k) * FN(load)(U + k));
        for (; k < H; k++) out[k] = v[k] * U[k];
    }
}

ATTR void FN(gru_after)(const lstmk_gru_args *a) {
    size_t H = a->hidden;
    for (size_t b = 0; b < a->batch; b++) {
        float *z = a->gates + b * 3 * H, *r = z + H, *candidate = z + 2 * H;
        const float *recurrent = a->recurrent + b * 3 * H;
        size_t k = 0;
        for (; k + W <= 2 * H; k += W) FN(store)(z + k, FN(load)(z + k) + FN(load)(recurrent + k));
        for (; k < 2 * H; k++) z[k] += recurrent[k];
        if (a->hasGateClip) FN(clip_n)(z, 2 * H, a->gateClip);
        FN(act_n)(a->recurrentActivation, z, 2 * H);
        const float *rc = recurrent + 2 * H, *bias = a->candidateBias;
        for (k = 0; k + W <= H; k += W) {
            vf part = FN(load)(rc + k);
            if (bias) part = part + FN(load)(bias + k);
            FN(store)(candidate + k, FN(load)(candidate + k) + FN(load)(r + k) * part);
        }
        for (; k < H; k++) candidate[k] += r[k] * (bias ? rc[k] + bias[k] : rc[k]);
        if (a->hasGateClip) FN(clip_n)(candidate, H, a->gateClip);
        FN(act_n)(a->activation, candidate, H);
        FN(gru_mix_n)(a->out + b * H, z, a->previous + b * H, candidate, H);
    }
}

ATTR void FN(gru_gates)(const lstmk_gru_args *a) {
    size_t H = a->hidden;
    for (size_t b = 0; b < a->batch; b++) {
        float *z = a->gates + b * 3 * H, *r = z + H, *reset = a->resetPrevious + b * H;
        const float *previous = a->previous + b * H;
        if (a->hasGateClip) FN(clip_n)(z, 2 * H, a->gateClip);
        FN(act_n)(a->recurrentActivation, z, 2 * H);
        size_t k = 0;
        for (; k + W <= H; k += W) FN(store)(reset + k, FN(load)(r + k) * FN(load)(previous + k));
        for (; k < H; k++) reset[k] = r[k] * previous[k];
    }
}

ATTR void FN(gru_output)(const lstmk_gru_args *a) {
    size_t H = a->hidden;
    for (size_t b = 0; b < a->batch; b++) {
        float *z = a->gates + b * 3 * H, *candidate = z + 2 * H;
        if (a->hasGateClip) FN(clip_n)(candidate, H, a->gateClip);
        FN(act_n)(a->activation, candidate, H);
        FN(gru_mix_n)(a->out + b * H, z, a->previous + b * H, candidate, H);
    }
}

#undef vf
#undef V
#undef INL
#undef FN
#undef CAT
#undef CAT2
