#ifndef LSTMCONV_CCBLAS_SHIM_H
#define LSTMCONV_CCBLAS_SHIM_H
#if defined(__APPLE__)
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
#endif
