#include "CLSTMBuildInfo.h"

#ifndef LSTMCONV_GIT_COMMIT
#define LSTMCONV_GIT_COMMIT ""
#endif

const char *lstmconv_git_commit(void) { return LSTMCONV_GIT_COMMIT; }
