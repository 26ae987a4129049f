// llhttp's header from Debian's node-llhttp package (scripts/setup.sh installs it); no parser
// source lives in this repository. Named llhttp.h so that the Debian sources' own
// `#include "llhttp.h"` finds it through this target's include folder.
#if !__has_include("/usr/share/include/llhttp/llhttp.h")
#error "llhttp is missing: run scripts/setup.sh (installs Debian's node-llhttp)"
#endif
#include "/usr/share/include/llhttp/llhttp.h"
