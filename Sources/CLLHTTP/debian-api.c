// llhttp 8.1 as Debian's node-llhttp ships it: /usr/share/llhttp/api.c, compiled here (its own
// translation unit, as upstream builds it). No parser source lives in this repository.
#if !__has_include("/usr/share/llhttp/api.c")
#error "llhttp is missing: run scripts/setup.sh (installs Debian's node-llhttp)"
#endif
#include "/usr/share/llhttp/api.c"
