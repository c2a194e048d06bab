#ifndef LSTMCONV_CZLIB_SHIM_H
#define LSTMCONV_CZLIB_SHIM_H
#include <zlib.h>
#endif
