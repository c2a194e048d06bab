#ifndef CLSTMBUILDINFO_H
#define CLSTMBUILDINFO_H

/// The git commit the binary was built from: scripts/install.sh passes `-Xcc -DLSTMCONV_GIT_COMMIT="<hash>"`;
/// an ordinary `swift build` leaves it empty.
const char *lstmconv_git_commit(void);

#endif
