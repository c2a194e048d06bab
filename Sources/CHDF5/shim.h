#ifndef LSTMCONV_CHDF5_SHIM_H
#define LSTMCONV_CHDF5_SHIM_H
#include <hdf5.h>
#endif
