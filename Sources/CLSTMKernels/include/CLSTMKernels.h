#ifndef CLSTMKERNELS_H
#define CLSTMKERNELS_H

#include <stddef.h>

// The fast engine's compute kernels: packed float32 GEMM, vectorised gate nonlinearities and the fused LSTM time
// loop, each compiled for several instruction sets (per-function `target` attributes, no build flags) and chosen at
// run time from CPUID/XGETBV (x86) — never from a CPU model name. spec/engine.md §7.

/// Kernel paths. `LSTMK_GENERIC` is portable C (SSE2 on x86-64, NEON on arm64 through the compiler's vectors).
enum {
    LSTMK_GENERIC = 0,
    LSTMK_AVX2 = 1,    ///< AVX2 + FMA (Haswell and later, AMD Zen)
    LSTMK_AVX512 = 2,  ///< AVX-512 F + VL + FMA (Skylake-SP and later, AMD Zen 4/5)
    LSTMK_PATH_COUNT = 3
};

/// Columns per packed panel (every path uses the same packed layout).
#define LSTMK_PANEL 32

/// 1 when this CPU and OS can run `path`.
int lstmk_path_supported(int path);
/// The fastest supported path.
int lstmk_best_path(void);
/// "generic", "avx2", "avx512" ("neon" for generic on arm64).
const char *lstmk_path_name(int path);
/// The CPU features the dispatch looked at, space-separated (e.g. "sse2 avx2 fma avx512f avx512vl").
const char *lstmk_cpu_features(void);
/// The CPU's brand string ("" where unknown).
const char *lstmk_cpu_brand(void);

/// Floats needed to pack a row-major `[k, n]` matrix: `ceil(n / 32) · k · 32`.
size_t lstmk_packed_count(size_t k, size_t n);
/// Packs row-major `b [k, n]` (row stride `ldb`) into panels of 32 columns, each `[k][32]`, zero-padded.
void lstmk_pack(size_t k, size_t n, const float *b, size_t ldb, float *packed);

/// Packs the transpose of `count` rows `rows [count, k]` (row stride `ld`) into columns `column ..< column + count` of
/// a packed `[k, n]` matrix (zero-filled by the caller): how gate matrices `W [H, ·]` become `W^T` panels directly.
void lstmk_pack_transposed(size_t k, size_t column, size_t count, const float *rows, size_t ld, float *packed);

/// `c[m, n] = a[m, k] · B + (accumulate ? c : 0)` with `B` packed by `lstmk_pack(k, n, …)`; row-major `a`, `c`.
/// `threads` > 1 splits the panels over the engine's worker threads when the product is large enough.
void lstmk_gemm(int path, int threads, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                float *c, size_t ldc, int accumulate);

/// In place: logistic sigmoid, tanh (rational approximations, |error| < 5e-7).
void lstmk_sigmoid(int path, float *x, size_t count);
void lstmk_tanh(int path, float *x, size_t count);

/// The standard LSTM (sigmoid gates, tanh activations, no peepholes, clips, projection, masking or document use
/// gate) over steps `first ..< last` of a direction of `steps` steps: per step one packed recurrent GEMM into the
/// step's gate row block, then the gate math and the remember/use update in one pass over each row. The caller
/// runs a direction in chunks of steps (the input projection of one chunk at a time, spec/engine.md §7).
typedef struct {
    size_t steps, batch, hidden;
    /// The steps this call runs: `first ..< last` (`0 ..< steps` for a whole direction).
    size_t first, last;
    /// Gate rows `[B, 4H]` (gates i, f, N, V) of input times `gatesRow, gatesRow + 1, …`: bias + input projection
    /// in; overwritten with activated gates. Step `s` reads time `readsReversed ? steps-1-s : s`.
    float *gates;
    size_t gatesRow;
    /// `W_h^T [H, 4H]` packed.
    const float *recurrent;
    /// STM `[B, H]` before step `first`, and LTM `[B, H]` (updated in place: the LTM after step `last - 1`).
    const float *stm0;
    float *ltm;
    /// Output `[T, B, H]`.
    float *output;
    /// Optional (NULL: not recorded): every step's LTM_t and tanh(LTM_t), time-major `[T, B, H]` at the read row.
    float *traceLTM, *traceU;
    /// Step `s` reads gate block `readsReversed ? T-1-s : s` and writes output slot `writesReversed ? T-1-s : s`.
    int readsReversed, writesReversed;
} lstmk_lstm_args;

void lstmk_lstm_standard(int path, int threads, const lstmk_lstm_args *args);

// MARK: - Gate math of the other variants (spec/engine.md §7)

/// Element-wise activations: `min(max(slope·x + offset, 0), 1)` for hard sigmoid; relu `max(x, 0)`. NaN passes
/// through every one (as the reference engine's float64 math).
enum {
    LSTMK_ACT_SIGMOID = 0,
    LSTMK_ACT_HARD_SIGMOID = 1,
    LSTMK_ACT_TANH = 2,
    LSTMK_ACT_RELU = 3,
    LSTMK_ACT_LINEAR = 4
};

typedef struct {
    int kind;
    float slope, offset;
} lstmk_activation;

/// In place over `count` values.
void lstmk_activate(int path, lstmk_activation activation, float *x, size_t count);
/// In place: `min(max(x, -limit), limit)` (NaN passes through).
void lstmk_clip(int path, float *x, size_t count, float limit);

/// One LSTM step's learn / forget / remember over `batch` rows, after the recurrent products were added to the
/// gate pre-activations: diagonal peepholes on i, f; the gate clip on i, f, N; i, f, N activated in place;
/// `LTM_t = LTM_{t-1}·f + N·i`; the cell clip; for the document variant `LTM_{t-1}·f` (the input of W_u).
typedef struct {
    size_t batch, hidden;
    /// `[B, 4H]`: i, f, N, V.
    float *gates;
    /// `[B, H]` each.
    const float *ltmPrevious;
    float *ltmNext;
    /// NULL, or the diagonal peepholes `[3H]`: P_i, P_f, P_v.
    const float *peepholes;
    int hasGateClip, hasCellClip;
    float gateClip, cellClip;
    lstmk_activation activation, recurrentActivation;
    /// NULL, or `[B, H]`: receives `LTM_{t-1}·f_t`.
    float *forgotten;
} lstmk_lstm_remember_args;

void lstmk_lstm_remember(int path, const lstmk_lstm_remember_args *args);

/// One LSTM step's use gate over `batch` rows: the diagonal peephole on V (from LTM_t), the gate clip, V
/// activated in place; then `STM = U·V` with `U = activation(use)` in place (document variant, `use` non-NULL) or
/// `U = activation(LTM_t)` written to `squashed` (standard use).
typedef struct {
    size_t batch, hidden;
    float *gates;
    /// LTM_t `[B, H]`.
    const float *ltm;
    const float *peepholes;
    int hasGateClip;
    float gateClip;
    lstmk_activation activation, recurrentActivation;
    /// NULL, or the document variant's U pre-activations `[B, H]` (activated in place).
    float *use;
    /// `[B, H]`: activation(LTM_t) (standard use).
    float *squashed;
    /// STM rows: `out + b·outStride`.
    float *out;
    size_t outStride;
} lstmk_lstm_use_args;

void lstmk_lstm_use(int path, const lstmk_lstm_use_args *args);

/// A GRU step's gate math over `batch` rows (`gates [B, 3H]`: z, r, candidate).
typedef struct {
    size_t batch, hidden;
    float *gates;
    /// Reset after: `STM_{t-1}·W_h^T` of all three gates `[B, 3H]`. Reset before: unused.
    const float *recurrent;
    /// Reset after: NULL, or `bh_c [H]` (multiplied by r with the candidate's recurrent part).
    const float *candidateBias;
    /// STM_{t-1} `[B, H]`.
    const float *previous;
    /// STM_t `[B, H]`.
    float *out;
    /// Reset before: receives `r·STM_{t-1}` `[B, H]`.
    float *resetPrevious;
    int hasGateClip;
    float gateClip;
    lstmk_activation activation, recurrentActivation;
} lstmk_gru_args;

/// Reset after, the whole step: z, r += recurrent; clip; activated; candidate += r·(recurrent_c + bh_c); clip;
/// activated; `STM_t = z·STM_{t-1} + (1 - z)·candidate`.
void lstmk_gru_after(int path, const lstmk_gru_args *args);
/// Reset before, first half (the recurrent products of z, r already added): clip, z and r activated,
/// `resetPrevious = r·STM_{t-1}`.
void lstmk_gru_gates(int path, const lstmk_gru_args *args);
/// Reset before, second half (the candidate's recurrent product of `resetPrevious` added): clip, candidate
/// activated, `STM_t = z·STM_{t-1} + (1 - z)·candidate`.
void lstmk_gru_output(int path, const lstmk_gru_args *args);

#endif
