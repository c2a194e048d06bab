#include "CLSTMBuildInfo.h"

#ifndef LSTMCONV_GIT_COMMIT
#define LSTMCONV_GIT_COMMIT ""
#endif

// The one version of lstmconv: the VERSION file at the repository root, compiled in (clang tracks it as a
// dependency, so editing VERSION rebuilds this file).
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc23-extensions"
static const char version_file[] = {
#embed "../../VERSION"
    , 0};
#pragma clang diagnostic pop

const char *lstmconv_version_file(void) { return version_file; }

const char *lstmconv_git_commit(void) { return LSTMCONV_GIT_COMMIT; }
