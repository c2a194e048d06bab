#include "kernels_private.h"

#if defined(__x86_64__)
#define SUFFIX avx512
#define ATTR __attribute__((target("avx2,fma,avx512f,avx512vl")))
#define W 16
#define MR 8
#define KS 4
#include "kernels_impl.h"
#endif
