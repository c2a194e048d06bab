#ifndef CLSTMBUILDINFO_H
#define CLSTMBUILDINFO_H

/// The repository's `VERSION` file as compiled in (`#embed`), e.g. "0.1.0\n"; callers trim whitespace.
const char *lstmconv_version_file(void);

/// The git commit the binary was built from: scripts/install.sh passes `-Xcc -DLSTMCONV_GIT_COMMIT="<hash>"`;
/// an ordinary `swift build` leaves it empty.
const char *lstmconv_git_commit(void);

#endif
