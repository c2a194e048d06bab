#include "kernels_private.h"

#define SUFFIX generic
#define ATTR
#define W 4
#if defined(__aarch64__)
#define MR 2
#else
#define MR 1
#endif
#define KS 1
#include "kernels_impl.h"
