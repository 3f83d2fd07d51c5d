# The warning flags of every C build in the tree: the Makefiles include this file and the
# test scripts read its CWARN line (tests/cwarn.sh), so the flags are written once.
CWARN = -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
