#include "kernels_private.h"

#if defined(__x86_64__) || defined(__i386__)
#define SUFFIX avx2
#define ATTR __attribute__((target("avx2,fma")))
#define W 8
#define MR 2
#define KS 2
#include "kernels_impl.h"
#endif
